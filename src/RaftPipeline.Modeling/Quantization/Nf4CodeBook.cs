namespace RaftPipeline.Modeling.Quantization;

/// <summary>
/// The NormalFloat-4 code book of QLoRA (Dettmers et al. 2023): 16 quantiles of N(0, 1) rescaled to [-1, 1],
/// with an exact zero. Digits as bitsandbytes hard-codes them in functional.py get_4bit_type("nf4") and in
/// csrc/kernels.cu (nf4_dequantization_lut), confirmed in bitsandbytes@95f9af3.
/// </summary>
public static class Nf4CodeBook
{
    public static IReadOnlyList<float> Values { get; } = new[]
    {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    };

    /// <summary>
    /// The 15 decision thresholds, ascending: the fp32 literals of bitsandbytes' CUDA decision tree (csrc/kernels.cu
    /// dQuantizeNF4), the kernel every GPU user of bitsandbytes runs. A value maps to code i+1 when it is strictly
    /// greater than threshold i ("x &gt; t"), so a value equal to a threshold takes the LOWER code. These are the
    /// code midpoints; each exact midpoint is a tie between two fp32 values, and the torch backend's fp32
    /// arithmetic breaks four of those ties the other way (thresholds 0, 8, 12, 14 differ by one ulp), a gap no
    /// realistic weight falls into. We follow the kernel.
    /// </summary>
    public static float[] Thresholds() => new[]
    {
        -0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
        -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
        0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
        0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f,
    };

    /// <summary>fp32 midpoints of neighbouring codes, as bitsandbytes' torch backend computes them.</summary>
    public static float[] Fp32Midpoints()
    {
        var t = new float[15];
        for (int i = 0; i < 15; i++) t[i] = (Values[i] + Values[i + 1]) / 2f;
        return t;
    }
}

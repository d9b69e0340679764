using RaftPipeline.Modeling.Quantization;

namespace RaftPipeline.Modeling.Tests.Quantization;

public class PythonFloatTests
{
    [Theory]
    // Expected strings are Python 3's repr() of the same doubles.
    [InlineData(0.1, "0.1")]
    [InlineData(1.0, "1.0")]
    [InlineData(123.0, "123.0")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(-2.5e-07, "-2.5e-07")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1.5e15, "1500000000000000.0")]
    [InlineData(1e16, "1e+16")]
    public void Repr_matches_python(double value, string expected) => Assert.Equal(expected, PythonFloat.Repr(value));

    [Fact]
    public void An_fp32_offset_widened_to_double_prints_all_its_digits_like_python()
        => Assert.Equal("0.10000000149011612", PythonFloat.Repr(0.1f));
}

using RaftPipeline.Stages.Load;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Load;

/// <summary>Writes small data files into a temp folder and loads them.</summary>
public sealed class LoadTestFiles : IDisposable
{
    public TempFolder Temp { get; } = new();

    public string Cp949(string name, string text) => Temp.File(name, Encodings.ToCp949(text));
    public string Utf8(string name, string text) => Temp.File(name, Encodings.ToUtf8(text));
    public string Bytes(string name, byte[] bytes) => Temp.File(name, bytes);

    public static LoadedFile Read(string path, TextEncodingKind encoding, ColumnMapping? columns = null) =>
        DatasetLoader.ReadFile(path, new LoadOptions { Encoding = encoding, Columns = columns ?? new ColumnMapping() });

    public static string Error(string path, TextEncodingKind encoding, ColumnMapping? columns = null) =>
        Assert.Throws<DatasetLoadException>(() => Read(path, encoding, columns)).Message;

    public void Dispose() => Temp.Dispose();
}

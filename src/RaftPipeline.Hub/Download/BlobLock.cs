namespace RaftPipeline.Hub.Download;

/// <summary>
/// The per-blob lock huggingface_hub takes (<c>.locks/models--org--name/{etag}.lock</c>, filelock's flock). .NET opens
/// a file with FileShare.None through flock(LOCK_EX) on Unix, so Python and this tool exclude each other.
/// </summary>
public sealed class BlobLock : IDisposable
{
    readonly FileStream stream;

    BlobLock(FileStream stream) => this.stream = stream;

    public static BlobLock Acquire(string path, IHubProgress progress, CancellationToken cancellation)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var waitedNoted = false;
        while (true)
        {
            try
            {
                return new BlobLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (File.Exists(path))
            {
                if (!waitedNoted) progress.Note($"waiting for {path}: another process is downloading the same file");
                waitedNoted = true;
                Task.Delay(250, cancellation).GetAwaiter().GetResult();
            }
        }
    }

    public void Dispose() => stream.Dispose();
}

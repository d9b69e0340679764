// Lists what the build trained and copied next to the app (the RaftPipeline item's CopyToOutputDirectory).
var model = Path.Combine(AppContext.BaseDirectory, "model");
if (!Directory.Exists(model))
{
    Console.Error.WriteLine($"no trained artifacts in {model}: build with RaftSkip unset to retrain");
    return 1;
}
foreach (var file in Directory.EnumerateFiles(model, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
    Console.WriteLine($"{Path.GetRelativePath(model, file)}  {new FileInfo(file).Length} bytes");
return 0;

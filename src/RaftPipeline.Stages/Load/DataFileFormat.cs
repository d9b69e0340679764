namespace RaftPipeline.Stages.Load;

/// <summary>How a data file is parsed. <see cref="Auto"/> goes by the extension: .jsonl/.ndjson/.json are JSONL, the rest CSV.</summary>
public enum DataFileFormat { Auto, Csv, Jsonl }

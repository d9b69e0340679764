namespace RaftPipeline.Training.Loop;

/// <summary>How the trainer reports; it writes to no console or file itself.</summary>
public interface ITrainerCallback
{
    void OnStepEnd(TrainingProgress progress) { }
    void OnLog(TrainingLogEntry entry) { }
    /// <summary>
    /// A checkpoint is being written into <paramref name="directory"/> (still its temporary folder): files the caller
    /// needs back on resume (its metrics so far) go here, so they become part of the checkpoint in the same rename.
    /// </summary>
    void OnCheckpointWriting(string directory) { }

    void OnCheckpointSaved(string path) { }
}

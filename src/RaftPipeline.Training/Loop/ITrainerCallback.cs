namespace RaftPipeline.Training.Loop;

/// <summary>How the trainer reports; it writes to no console or file itself.</summary>
public interface ITrainerCallback
{
    void OnStepEnd(TrainingProgress progress) { }
    void OnLog(TrainingLogEntry entry) { }
    void OnCheckpointSaved(string path) { }
}

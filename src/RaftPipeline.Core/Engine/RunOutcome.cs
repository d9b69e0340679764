namespace RaftPipeline.Core.Engine;

/// <summary>How a run ended, as the lock file's <c>status</c> spells it.</summary>
public enum RunOutcome { Succeeded, Failed, Cancelled }

using System.CommandLine;

namespace RaftPipeline.Cli;

/// <summary>
/// One `dotnet raft` verb. Its folder under Commands/&lt;Verb&gt;/ holds the definition (arguments, options,
/// wiring: this interface) apart from the behaviour (a &lt;Verb&gt;Command class), as dotnet/sdk does.
/// </summary>
public interface ICliVerb
{
    Command Create();
}

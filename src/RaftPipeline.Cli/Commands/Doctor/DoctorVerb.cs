using System.CommandLine;
using RaftPipeline.Modeling.Native;

namespace RaftPipeline.Cli.Commands.Doctor;

/// <summary><c>dotnet raft doctor</c>: the wiring; the behaviour is <see cref="DoctorCommand"/>.</summary>
public sealed class DoctorVerb : ICliVerb
{
    public Command Create()
    {
        var command = new Command("doctor",
            "Check the set-up: .NET, the libtorch build in use and where it was loaded from, CUDA builds found, GPUs and driver, NCCL; and what to do when something is missing.");
        command.SetAction(parse => DoctorCommand.Run(parse.InvocationConfiguration.Output, LibtorchDiscovery.FromEnvironment()));
        return command;
    }
}

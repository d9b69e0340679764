using RaftPipeline.Cli;

return RaftCli.Run(args);

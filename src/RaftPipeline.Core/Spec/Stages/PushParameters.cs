using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RaftPipeline.Core.Spec.Stages;

/// <summary>Parameters of a <c>push</c> stage: the notebook's push_to_hub, one commit to a Hub model repository.</summary>
[Description("Uploads an adapter or model folder with its model card to a Hugging Face Hub model repository as one commit, creating the repository if needed (HF_TOKEN, HF_ENDPOINT).")]
public sealed record PushParameters : StageParameters, ICheckedParameters
{
    [Description("The repository to push to, org/name (created when it does not exist).")]
    [Required]
    public string Repo { get; init; } = "";

    [Description("The branch to commit to.")]
    public string Revision { get; init; } = "main";

    [Description("Create the repository private (an existing repository keeps its visibility).")]
    public bool Private { get; init; }

    [Description("The commit's title.")]
    public string CommitMessage { get; init; } = "Upload with RaftPipeline";

    public IEnumerable<ParameterProblem> Check()
    {
        if (!RaftPipeline.Hub.HubModelId.TryParse(Repo, out var id) || id.Revision != RaftPipeline.Hub.HubModelId.DefaultRevision)
            yield return new ParameterProblem("repo", $"expected a Hugging Face repository id org/name, got '{Repo}'");
    }
}

using RaftPipeline.Stages.Generate;
using RaftPipeline.Stages.Tests.TestSupport;

namespace RaftPipeline.Stages.Tests.Generate;

public class SamplesArtifactTests
{
    static readonly List<SampleRecord> Samples =
    [
        new("in-domain", "무례하게.", "Context: 서울\n---\nQuestion: 수도?", "서울입니다.", "그것도 몰라? 여기 '서울'|이라고.\n끝."),
        new("general", null, "2 + 2?", null, "<think>\n\n</think>\n\n4"),
    ];

    [Fact]
    public void Markdown_puts_base_and_tuned_side_by_side_with_multi_line_answers_kept_in_their_cells()
    {
        Assert.Equal(
            "# Samples\n" +
            "\n## in-domain\n\n**System:** 무례하게.\n\n**User:** Context: 서울<br>---<br>Question: 수도?\n\n" +
            "| base | tuned |\n|---|---|\n| 서울입니다. | 그것도 몰라? 여기 '서울'\\|이라고.<br>끝. |\n" +
            "\n## general\n\n**System:** _(none)_\n\n**User:** 2 + 2?\n\n" +
            "| base | tuned |\n|---|---|\n| _(not run)_ | &lt;think&gt;<br><br>&lt;/think&gt;<br><br>4 |\n",
            SamplesArtifact.ToMarkdown(Samples));
    }

    [Fact]
    public void Jsonl_round_trips_with_nulls_and_unescaped_korean()
    {
        using var temp = new TempFolder();
        SamplesArtifact.Write(temp.Path, Samples);
        Assert.Equal(Samples, SamplesArtifact.Read(temp.Path));
        Assert.Equal("{\"probe\":\"general\",\"system\":null,\"user\":\"2 + 2?\",\"base\":null,\"tuned\":\"<think>\\n\\n</think>\\n\\n4\"}",
            File.ReadAllLines(temp.Combine(SamplesArtifact.SamplesFile))[1]);
    }
}

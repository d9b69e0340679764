using RaftPipeline.Modeling.Native;
using RaftPipeline.Training.Data;
using RaftPipeline.Training.Tests.Support;
using static RaftPipeline.Training.Tests.Support.Qwen3Ids;

namespace RaftPipeline.Training.Tests.Data;

public class CompletionOnlyCollatorTests
{
    const int Ig = CollatorOptions.IgnoreIndex;
    static CompletionOnlyCollator Collator(int max = 64) => new(new CollatorOptions(DefaultTemplate, max, ImEnd));

    [Fact]
    public void Masks_everything_through_the_template_and_learns_the_closing_im_end()
    {
        var row = Turn([100, 101], [200, 201, 202]);
        var labeled = Collator().Label(row);
        int answerStart = Array.IndexOf(row, Assistant) + 1; // the "\n" after "assistant" is the first answer label
        for (int i = 0; i < answerStart; i++) Assert.Equal(Ig, labeled.Labels[i]);
        Assert.Equal(row[answerStart..], labeled.Labels[answerStart..]);
        // The answer's <|im_end|> (= the pad id) stays a label: the model learns to stop.
        Assert.Equal(ImEnd, labeled.Labels[^2]);
        Assert.Equal(RowStatus.Ok, labeled.Status);
        Assert.Equal(row.Length - answerStart, labeled.SupervisedTokens);
    }

    [Fact]
    public void Multi_turn_rows_learn_only_the_last_assistant_turn_as_TRL_does()
    {
        int[] row = [.. Turn([100], [200, 201]), .. Turn([110], [210, 211])];
        var labeled = Collator().Label(row);
        int lastAssistant = Array.LastIndexOf(row, Assistant);
        Assert.All(labeled.Labels[..(lastAssistant + 1)], l => Assert.Equal(Ig, l));
        Assert.Equal(row[(lastAssistant + 1)..], labeled.Labels[(lastAssistant + 1)..]);
    }

    [Fact]
    public void Template_is_matched_as_an_id_sequence_not_by_its_first_id()
    {
        // <|im_start|> followed by "user" must not count as the response template.
        int[] row = [ImStart, User, Newline, 5, ImEnd, ImStart, Assistant, 7, 8];
        Assert.Equal(5, ResponseTemplate.FindLast(row, DefaultTemplate));
        Assert.Equal(-1, ResponseTemplate.FindLast([ImStart, User, Assistant], DefaultTemplate));
    }

    [Fact]
    public void Truncation_counts_rows_whose_answer_is_cut_away()
    {
        var c = Collator(max: 10);
        var ok = c.Label(Turn([1], [2]));                        // 13 tokens → cut to 10, template at 6..7 → partial
        var cut = c.Label(Turn([1, 2, 3, 4, 5], [9, 9]));       // template starts at index 10: cut away
        var templateOnly = c.Label([9, 9, 9, 9, 9, 9, 9, 9, ImStart, Assistant, 4]); // template ends exactly at the cut
        var missing = c.Label([1, 2, 3]);
        Assert.Equal(RowStatus.Truncated, ok.Status);
        Assert.Equal(10, ok.InputIds.Length);
        Assert.Equal(RowStatus.AnswerCutAway, cut.Status);
        Assert.All(cut.Labels, l => Assert.Equal(Ig, l));
        Assert.Equal(RowStatus.AnswerCutAway, templateOnly.Status);
        Assert.Equal(RowStatus.TemplateMissing, missing.Status);
        var report = CollationReport.Of([ok, cut, templateOnly, missing]);
        Assert.Equal((4, 1, 2, 1), (report.Rows, report.Truncated, report.AnswerCutAway, report.TemplateMissing));
        Assert.Contains("2 with the answer cut away", report.ToString());
    }

    [Fact]
    public void Collate_pads_right_and_masks_padding_by_position()
    {
        TorchRuntime.EnsureInitialized();
        var c = Collator();
        var a = c.Label(Turn([1], [2, 3]));
        var b = c.Label(Turn([1, 1, 1, 1], [2]));
        var batch = c.Collate([a, b]);
        int width = Math.Max(a.InputIds.Length, b.InputIds.Length);
        Assert.Equal(new long[] { 2, width }, batch.InputIds.shape);
        var ids = batch.InputIds.data<long>().ToArray();
        var mask = batch.AttentionMask.data<long>().ToArray();
        var labels = batch.Labels.data<long>().ToArray();
        int padFrom = a.InputIds.Length; // row a is the shorter one
        Assert.True(a.InputIds.Length < b.InputIds.Length);
        for (int t = 0; t < width; t++)
        {
            bool real = t < padFrom;
            Assert.Equal(real ? a.InputIds[t] : ImEnd, ids[t]);
            Assert.Equal(real ? 1 : 0, mask[t]);
            Assert.Equal(real ? a.Labels[t] : Ig, labels[t]);
        }
        // The real closing <|im_end|> of row a (same id as the padding) keeps its label.
        Assert.Equal(ImEnd, labels[padFrom - 2]);
        Assert.Equal(a.InputIds.Length + b.InputIds.Length, batch.RealTokens);
        Assert.Equal(a.SupervisedTokens + b.SupervisedTokens, batch.SupervisedTokens);
    }

    [Fact]
    public void Loss_rows_found_on_the_host_are_the_supervised_shifted_positions()
    {
        var c = Collator();
        var a = c.Label(Turn([1], [2, 3]));
        var b = c.Label(Turn([1, 1, 1, 1], [2]));
        var batch = c.Collate([a, b]);
        Assert.True(batch.HasPadding);
        Assert.Same(batch.AttentionMask, batch.MaskIfPadded);

        // The device way: position t predicts label t+1, labels of -100 drop out.
        var shifted = batch.Labels[.., 1..].reshape(-1);
        var expectedRows = shifted.ne(CollatorOptions.IgnoreIndex).nonzero().squeeze(1);
        Assert.Equal(expectedRows.data<long>().ToArray(), batch.LossRows.data<long>().ToArray());
        Assert.Equal(shifted.index_select(0, expectedRows).data<long>().ToArray(), batch.LossTargets.data<long>().ToArray());
        Assert.Equal(batch.SupervisedTokens, batch.LossRows.shape[0]);

        var same = c.Collate([a, a]);
        Assert.False(same.HasPadding);
        Assert.Null(same.MaskIfPadded);
    }
}

using RaftPipeline.Modeling.Generation;
using RaftPipeline.Modeling.Tests.Support;

namespace RaftPipeline.Modeling.Tests.Generation;

/// <summary>Rows with their own options in one batch (the server's requests stepped together) give what each gives alone.</summary>
[Collection(SerialCollection.Name)]
public class GenerationRowTests
{
    [Fact]
    public void Rows_with_their_own_options_generate_what_each_generates_alone()
    {
        using var model = TinyModels.Build();
        var greedy = new GenerationOptions { MaxNewTokens = 9, PadTokenId = 0 };
        var penalised = greedy with { MaxNewTokens = 4, RepetitionPenalty = 1.3 };
        var sampled = greedy with { MaxNewTokens = 7, DoSample = true, Temperature = 1.2, TopK = 40, TopP = 0.9, Seed = 77 };
        GenerationRow[] rows =
        [
            new([5, 17, 42, 99, 7, 3, 11], greedy),
            new([8, 1], penalised),
            new([250, 251, 252, 253], sampled),
        ];

        var batch = TextGenerator.Generate(model, rows);

        for (int i = 0; i < rows.Length; i++)
        {
            var alone = TextGenerator.Generate(model, [rows[i].PromptIds], rows[i].Options).Single();
            Assert.Equal(alone.NewIds, batch[i].NewIds);
            Assert.Equal(alone.Finish, batch[i].Finish);
        }
        Assert.Equal([9, 4, 7], batch.Select(b => b.NewIds.Count));
    }

    [Fact]
    public void A_cancelled_row_ends_as_cancelled_and_the_others_go_on()
    {
        using var model = TinyModels.Build();
        using var leave = new CancellationTokenSource();
        var options = new GenerationOptions { MaxNewTokens = 10, PadTokenId = 0 };
        GenerationRow[] rows = [new([5, 17, 42], options, leave.Token), new([8, 1, 2], options)];

        var batch = TextGenerator.Generate(model, rows, onToken: t =>
        {
            if (t.Sequence == 0 && t.Step == 2) leave.Cancel();
        });

        Assert.Equal(FinishReason.Cancelled, batch[0].Finish);
        Assert.Equal(3, batch[0].NewIds.Count);
        Assert.Equal(FinishReason.Length, batch[1].Finish);
        Assert.Equal(TextGenerator.Generate(model, [rows[1].PromptIds], options).Single().NewIds, batch[1].NewIds);
    }
}

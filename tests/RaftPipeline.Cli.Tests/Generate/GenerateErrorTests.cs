namespace RaftPipeline.Cli.Tests.Generate;

[Collection(TinyModelCollection.Name)]
public sealed class GenerateErrorTests(TinyModelFixture tiny)
{
    static void AssertBadInput((int Exit, string Out, string Err) result, params string[] inError)
    {
        Assert.Equal(RaftCli.ExitCodes.BadInput, result.Exit);
        Assert.Equal("", result.Out);
        foreach (var part in inError) Assert.Contains(part, result.Err);
    }

    [Fact]
    public void Missing_model_folder_is_named()
    {
        var missing = Path.Combine(tiny.Root, "no-such-model");
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", missing, "--prompt", "hi", "--device", "cpu"),
            "--model: folder not found", missing);
    }

    [Fact]
    public void Prompt_and_messages_together_are_refused()
    {
        var conv = Path.Combine(tiny.Root, "conv-both.json");
        File.WriteAllText(conv, """[{"role": "user", "content": "hi"}]""");
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--prompt", "hi", "--messages", conv),
            "either --prompt or --messages, not both");
    }

    [Fact]
    public void Neither_prompt_nor_messages_is_refused() =>
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", tiny.ModelDir), "give --prompt TEXT or --messages FILE");

    [Fact]
    public void Malformed_messages_json_names_the_file_line_and_column()
    {
        var conv = Path.Combine(tiny.Root, "conv-bad.json");
        File.WriteAllText(conv, "[\n  {\"role\": \"user\",\n   \"content\": \"hi\" \"x\"}\n]\n");
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--messages", conv, "--device", "cpu"),
            conv, "line 3, column", "not valid JSON");
    }

    [Fact]
    public void Messages_that_are_not_role_content_objects_name_the_position()
    {
        var conv = Path.Combine(tiny.Root, "conv-norole.json");
        File.WriteAllText(conv, """[{"role": "user", "content": "hi"}, {"content": "no role"}]""");
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--messages", conv, "--device", "cpu"),
            conv, "[1]", "\"role\"");
    }

    [Fact]
    public void Greedy_with_sampling_flags_is_refused() =>
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--prompt", "hi", "--greedy", "--temperature", "0.5"),
            "--greedy cannot be combined");

    [Fact]
    public void Out_of_range_sampling_values_name_the_option()
    {
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--prompt", "hi", "--top-p", "1.5"), "--top-p");
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--prompt", "hi", "--max-new-tokens", "0"), "--max-new-tokens");
    }

    [Fact]
    public void Missing_adapter_folder_is_named()
    {
        var missing = Path.Combine(tiny.Root, "no-adapter");
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--adapter", missing, "--prompt", "hi", "--device", "cpu"),
            "--adapter: folder not found", missing);
    }

    [Fact]
    public void A_folder_without_config_json_names_the_missing_file()
    {
        var partial = Path.Combine(tiny.Root, "partial");
        Directory.CreateDirectory(partial);
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(tiny.ModelDir, name), Path.Combine(partial, name), overwrite: true);
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", partial, "--prompt", "hi", "--device", "cpu"), "config.json");
    }

    [Fact]
    public void An_adapter_for_another_model_is_refused_with_the_key()
    {
        // An adapter whose rank-4 matrices claim a module the tiny model lacks.
        var bad = Path.Combine(tiny.Root, "adapter-other");
        Directory.CreateDirectory(bad);
        File.Copy(Path.Combine(tiny.AdapterDir, "adapter_config.json"), Path.Combine(bad, "adapter_config.json"), overwrite: true);
        var weights = File.ReadAllBytes(Path.Combine(tiny.AdapterDir, "adapter_model.safetensors"));
        // layers.0 → layers.9 in the header keeps every offset valid (same length) and names a layer that does not exist.
        var text = System.Text.Encoding.Latin1.GetString(weights).Replace("layers.0.", "layers.9.");
        File.WriteAllBytes(Path.Combine(bad, "adapter_model.safetensors"), System.Text.Encoding.Latin1.GetBytes(text));
        AssertBadInput(TinyModelFixture.Raft("generate", "--model", tiny.ModelDir, "--adapter", bad, "--prompt", "hi", "--device", "cpu"),
            "adapter_model.safetensors", "layers.9.");
    }
}

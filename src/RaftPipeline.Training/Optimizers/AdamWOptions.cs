namespace RaftPipeline.Training.Optimizers;

/// <summary>AdamW hyperparameters; the defaults are HF TrainingArguments' (adam_beta1/2, adam_epsilon, weight_decay).</summary>
public sealed record AdamWOptions(double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0.0);

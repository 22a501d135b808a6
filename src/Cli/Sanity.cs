using System.Text.Json.Nodes;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors;

namespace NativeIg.Cli;

/// <summary>`nativeig sanity IMAGE`: Adebayo et al.'s cascading randomisation of GoogLeNet's top blocks, and how alike the explanations stay.</summary>
internal static class Sanity
{
    public static readonly string[] ValueOptions = ["--target", "--steps", "--blocks", "--seed", "--method", "--batch", "--weights", "--labels", "--threads", "--device"];
    public static readonly string[] Flags = ["--json", "--quiet", "--skip-checksum"];

    public static int Run(Arguments a, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        if (a.Positional.Count > 1) throw new UsageException("sanity takes one IMAGE.");
        int steps = a.Int("--steps") ?? 32;
        if (steps is < 1 or > 10_000) throw new UsageException($"--steps must be in 1…10000, got {steps}.");
        int blockCount = a.Int("--blocks") ?? 4;
        if (blockCount < 1 || blockCount > GoogLeNet.BlocksTopDown.Count) throw new UsageException($"--blocks must be in 1…{GoogLeNet.BlocksTopDown.Count}, got {blockCount}.");
        int seed = a.Int("--seed") ?? 0;
        int batch = a.Int("--batch") ?? 32;
        if (batch is < 1 or > NativeIg.Cli.Explain.MaxBatch) throw new UsageException($"--batch must be in 1…{NativeIg.Cli.Explain.MaxBatch}, got {batch}.");
        string method = (a.Value("--method") ?? "ig").ToLowerInvariant();
        if (method is not ("ig" or "gradient" or "grad-x-input")) throw new UsageException($"--method for sanity is ig, gradient or grad-x-input; got '{method}'.");
        using var threadLimit = Program.ApplyThreads(a);
        using var device = Program.OpenDevice(a);
        string? imagePath = a.Positional.Count == 1 ? a.Positional[0] : NativeIg.Cli.Explain.DefaultExample();
        string imageName = imagePath is "-" ? Program.StandardInputName : imagePath ?? NativeIg.Cli.Explain.BuiltInExampleName;
        var labels = ImageNetLabels.LoadDefault(a.Value("--labels"), WeightsResolver.TryResolve(a.Value("--weights")));
        int? requested = a.Value("--target") is { } t ? NativeIg.Cli.Explain.TargetClass(labels, t) : null;
        using var image = imagePath is null ? NativeIg.Cli.Explain.BuiltInExample() : Program.LoadImage(imagePath);
        using var model = Program.LoadModel(a, device);
        int target = requested ?? new IntegratedGradients(model).PredictedClass(image);
        var blocks = GoogLeNet.BlocksTopDown.Take(blockCount).ToArray();
        var igOptions = IgOptions.Default with { Steps = steps, BatchSize = batch };
        bool quiet = a.Flag("--quiet") || a.Flag("--json");
        bool live = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        Tensor ExplainWith(NativeIg.Autodiff.IDifferentiableModel m)
        {
            if (method != "ig") return method == "gradient" ? Gradients.Plain(m, image, target) : Gradients.TimesInput(m, image, target);
            // Each IG of the cascade reports its batches, as explain does.
            var progress = quiet ? null : new ProgressReporter(stderr, live, "IG", TimeSpan.FromSeconds(2));
            try { return Attributions(new IntegratedGradients(m).Attribute(image, null, target, igOptions with { Progress = progress }, cancellation)); }
            finally { progress?.Finish(); }
        }
        var cascade = SanityChecks.CascadingRandomization(model, blocks, k =>
        {
            if (!quiet) stderr.WriteLine($"  randomising {string.Join(", ", blocks.Take(k))} …");
            return model.WithRandomizedLayers(blocks.Take(k), seed);
        }, ExplainWith, cancellation);
        if (a.Flag("--json"))
        {
            var record = new JsonObject
            {
                ["image"] = imageName, ["target"] = target, ["label"] = labels[target], ["method"] = method, ["seed"] = seed,
                ["cascade"] = new JsonArray([.. cascade.Select(s => (JsonNode)new JsonObject
                {
                    ["randomized"] = new JsonArray([.. s.Randomized.Select(b => (JsonNode)b)]),
                    ["rank_correlation_abs"] = s.RankCorrelation, ["rank_correlation_signed"] = s.SignedRankCorrelation,
                })]),
            };
            if (method == "ig") record.Insert(record.IndexOf("seed"), "steps", steps); // the gradient methods have no steps
            Program.WriteJson(stdout, record);
        }
        else
        {
            stdout.WriteLine($"Cascading randomisation (Adebayo et al. 2018) of {method} for '{labels[target]}' ({target}) in {imageName}");
            stdout.WriteLine("Spearman's rho against the trained model's attributions (1: unchanged; near 0: the map no longer reflects the model)");
            stdout.WriteLine($"{"randomised down to",-22} {"rho |attr|",11} {"rho attr",9}");
            foreach (var s in cascade) stdout.WriteLine($"{s.Randomized[^1],-22} {s.RankCorrelation,11:0.000} {s.SignedRankCorrelation,9:0.000}");
        }
        return Program.Success;
    }

    private static Tensor Attributions(IgResult result)
    {
        using (result) return result.Attributions.Clone();
    }
}

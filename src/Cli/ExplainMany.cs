using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors.IO;

namespace NativeIg.Cli;

/// <summary>
/// `nativeig explain` over many images (files, folders, globs, @list files, a shard of them): the model
/// loads once, each image goes to OUT/NAME/, and OUT gets report.jsonl, index.html and dataset/, rebuilt
/// from the image folders at the end, also after Ctrl-C or SIGTERM. `nativeig merge` rebuilds them over
/// several run folders (the shards of one data set).
/// </summary>
internal static class ExplainMany
{
    public static int Run(Arguments a, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        var settings = Explain.ParseSettings(a);
        if (!MethodSpec.Parse(a).IsPlainIg)
            throw new UsageException("--method, --layer, --neuron and the noise options explain one image at a time; many images use plain IG.");
        if (a.Flag("--json")) throw new UsageException("--json is for one image; a run over many writes OUT/report.jsonl.");
        Shard? shard = null;
        int? shards = a.Int("--shards");
        if (shards is < 1) throw new UsageException($"--shards must be at least 1, got {shards}.");
        try { shard = a.Value("--shard") is { } text ? Shard.Parse(text) : Shard.FromEnvironment(shards); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        if (a.Value("--shard") is not null && shards is not null) throw new UsageException("Give --shard K/N, or --shards N with a scheduler's index in the environment, not both.");
        if (shards is not null && shard is null) throw new UsageException("--shards N needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) in the environment; or give --shard K/N.");
        ModelChoice.ParsePreprocessing(a, null);
        using var threadLimit = Program.ApplyThreads(a);
        using var device = Program.OpenDevice(a);
        var onnxChoice = a.Value("--model") is not null ? ModelChoice.Load(a, device) : null;
        if (onnxChoice is not null) settings = settings with { Output = onnxChoice.OutputFor(a, settings.Output) };
        var labels = onnxChoice?.Labels ?? ImageNetLabels.LoadDefault(a.Value("--labels"), WeightsResolver.TryResolve(a.Value("--weights")));
        int? target = null;
        int topClasses = 1;
        if (a.Value("--target") is { } targetText)
        {
            if (targetText.StartsWith("top:", StringComparison.OrdinalIgnoreCase))
                topClasses = int.TryParse(targetText[4..], out int k) && k is >= 1 and <= 10 ? k : throw new UsageException($"--target top:K needs K in 1…10, got '{targetText}'.");
            else if (!targetText.Equals("top", StringComparison.OrdinalIgnoreCase))
                target = Explain.TargetClass(labels, targetText);
        }
        string outDir = a.Value("--out") ?? "ig-out";
        bool quiet = a.Flag("--quiet");
        var all = ImageInputs.Expand(a.Positional, outDir, note => { if (!quiet) stderr.WriteLine($"skipped {Terminal.Safe(note)}"); });
        var inputs = all.Where(i => (shard ?? Shard.All).Owns(i.Name)).ToArray();
        AtomicFiles.RequireWritableDirectory(outDir);
        var choice = onnxChoice ?? ModelChoice.Load(a, device, labels);
        var run = new DatasetSettings
        {
            OutputDirectory = outDir, Ig = settings.Options(), Baseline = settings.BaselineSpec, Target = target, TopClasses = topClasses,
            ClipPercentile = settings.Clip < 100 ? settings.Clip : null, Signed = a.Flag("--signed"), Colormap = settings.Colormap,
            Force = a.Flag("--force"), Model = choice.Name, InputSize = choice.InputSize, Tool = Program.Version,
            Device = device is null ? "cpu" : $"{device.Kind} {device.Name}",
        };
        var explainer = new DatasetExplainer(choice.Model, choice.Scores, i => labels[i], run);
        if (!quiet)
            stderr.WriteLine($"{inputs.Length} images{(shard is { } s ? $" (shard {s} of {all.Count})" : "")} into {outDir}/, {choice.Name}, {run.Signature}");
        int done = 0, failed = 0, reused = 0;
        try
        {
            foreach (var (record, wasDone) in explainer.ExplainAsync(inputs, cancellation).ToBlockingEnumerable(cancellation))
            {
                done++;
                if (record.Error is not null) failed++;
                if (wasDone) reused++;
                if (quiet) continue;
                stdout.WriteLine(record.Error is not null
                    ? $"[{done}/{inputs.Length * (target is null ? topClasses : 1)}] {record.Image}: error: {record.Error}"
                    : $"[{done}/{inputs.Length * (target is null ? topClasses : 1)}] {record.Image}: {record.Label} {record.Top.FirstOrDefault(t => t.Index == record.Target).Probability * 100:0.0}%, delta {record.RelativeDelta * 100:0.0}%"
                      + (wasDone ? " (done before, kept)" : $", {record.Seconds:0.0} s"));
            }
        }
        finally
        {
            // The report comes from the image folders, so it is right after an interruption too.
            DatasetReport.Write(outDir, DatasetReport.Collect(outDir));
        }
        if (!quiet)
            stderr.WriteLine($"{done} explanations ({reused} already done, {failed} failed): {Path.Combine(outDir, "report.jsonl")}, {Path.Combine(outDir, "index.html")}, {Path.Combine(outDir, "dataset")}/");
        return failed == 0 ? Program.Success : Program.Failure;
    }

    /// <summary>`nativeig merge DIR... [--out DIR]`: one report, gallery and dataset view over the image folders of several runs.</summary>
    public static int Merge(Arguments a, TextWriter stdout)
    {
        if (a.Positional.Count == 0) throw new UsageException("merge takes the run folders to combine: nativeig merge DIR... [--out DIR].");
        // Every run folder must exist before --out (by default the first of them) is created.
        foreach (var run in a.Positional)
            if (!Directory.Exists(run)) throw new DirectoryNotFoundException($"{run}: no such run folder.");
        string outDir = a.Value("--out") ?? a.Positional[0];
        AtomicFiles.RequireWritableDirectory(outDir);
        var images = DatasetReport.Collect([.. a.Positional]);
        DatasetReport.Write(outDir, images);
        stdout.WriteLine($"{images.Count} images from {a.Positional.Count} folders ({images.Count(i => i.Record.Error is not null)} failed): {Path.Combine(outDir, "report.jsonl")}, {Path.Combine(outDir, "index.html")}, {Path.Combine(outDir, "dataset")}/");
        return Program.Success;
    }
}

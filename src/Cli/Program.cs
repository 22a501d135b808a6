using System.Globalization;
using System.Text.Json;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors;

using NativeIg.Tensors.IO;

namespace NativeIg.Cli;

/// <summary>Bad command-line usage: exit code 2 with the message and a pointer to --help.</summary>
internal sealed class UsageException(string message) : Exception(message);

internal static class Program
{
    public const int Success = 0, Failure = 1, BadArguments = 2, Interrupted = 130, Terminated = 143;

    /// <summary>
    /// Ctrl-C (SIGINT) and SIGTERM cancel the work through the library's cancellation token instead of
    /// killing the process: the current chunk finishes, nothing half-written is left (outputs are
    /// renamed into place only when complete), one line is printed, and the exit code is 130 or 143.
    /// </summary>
    public static int Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        int signalExit = 0;
        void OnSignal(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true; // keep the process; the token stops the work
            Interlocked.CompareExchange(ref signalExit, context.Signal == System.Runtime.InteropServices.PosixSignal.SIGTERM ? Terminated : Interrupted, 0);
            cancellation.Cancel();
        }
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, OnSignal);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, OnSignal);
        // The work runs on its own thread so that a read the kernel will not interrupt (a FIFO swapped in
        // after the checks, a hung network mount) cannot keep a scheduler's SIGTERM from ending the process:
        // after a signal the work gets StopGrace to finish its chunk and write its report, then the process exits.
        int code = Failure;
        var worker = new Thread(() => code = Run(args, Console.Out, Console.Error, cancellation.Token), maxStackSize: 16 << 20)
        {
            IsBackground = true, // a worker stuck in a read does not hold the process open
            Name = "nativeig",
        };
        worker.Start();
        while (!worker.Join(TimeSpan.FromMilliseconds(200)))
        {
            if (!cancellation.IsCancellationRequested) continue;
            if (worker.Join(StopGrace)) break;
            Console.Error.WriteLine($"nativeig: the work did not stop within {StopGrace.TotalSeconds:0} s of the signal (a blocked read?); exiting.");
            return signalExit != 0 ? signalExit : Interrupted;
        }
        return code == Interrupted && signalExit != 0 ? signalExit : code;
    }

    /// <summary>How long the work may take to stop after Ctrl-C or SIGTERM (a chunk in flight, the report) before the process exits anyway.</summary>
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(20);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, CancellationToken.None);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        try
        {
            if (args.Length == 1 && args[0] is "--version")
            {
                stdout.WriteLine(Version);
                return Success;
            }
            if (args.Length == 0)
            {
                // No command is a usage error like any other: the usage goes to stderr, stdout stays empty, exit 2.
                stderr.WriteLine("nativeig: no command given.");
                stderr.Write(Help.Main);
                return BadArguments;
            }
            if (args[0] is "-h" or "--help" or "help")
            {
                stdout.Write(Help.Main);
                return Success;
            }
            var rest = args[1..];
            return args[0] switch
            {
                "classify" => Classify.Run(new Arguments(rest, Help.Classify, Classify.ValueOptions, Classify.Flags), stdout, stderr, cancellation),
                "explain" => Explain.Run(new Arguments(rest, Help.Explain, Explain.ValueOptions, Explain.Flags), stdout, stderr, cancellation),
                "weights" => WeightsCommand.Run(new Arguments(rest, Help.Weights, WeightsCommand.ValueOptions, WeightsCommand.Flags), stdout, stderr, cancellation),
                "model" => DescribeModel(new Arguments(rest, Help.Model, ModelChoice.ValueOptions.Skip(1).ToArray(), ModelChoice.Flags), stdout),
                "compare" => Compare.Run(new Arguments(rest, Help.Compare, Compare.ValueOptions, Compare.Flags), stdout, stderr, cancellation),
                "sanity" => Sanity.Run(new Arguments(rest, Help.Sanity, Sanity.ValueOptions, Sanity.Flags), stdout, stderr, cancellation),
                "merge" => ExplainMany.Merge(new Arguments(rest, Help.Merge, ["--out"], []), stdout),
                "completion" => Completion(new Arguments(rest, Help.Completion, [], []), stdout),
                // What the completion scripts call: the words that fit at the cursor, one per line (not in the help).
                "complete" => Complete(new Arguments(rest, Help.Completion, ["--position"], []), stdout),
                _ => throw new UsageException($"Unknown command '{args[0]}'. Commands: classify, explain, compare, sanity, merge, model, weights, completion."),
            };
        }
        catch (HelpRequested help)
        {
            stdout.Write(help.Text);
            return Success;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            stderr.WriteLine();
            stderr.WriteLine("nativeig: interrupted; no output was written or replaced for the unfinished work.");
            return Interrupted;
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"nativeig: {Terminal.Safe(e.Message)}");
            stderr.WriteLine("Run 'nativeig --help' or 'nativeig COMMAND --help' for usage.");
            return BadArguments;
        }
        catch (Exception e) when (e is FileNotFoundException or WeightsFormatException or ImageFormatException or NativeIg.Onnx.OnnxFormatException or NativeIg.Onnx.OnnxUnsupportedException or FormatException or ArgumentException or IOException or UnauthorizedAccessException || Devices.IsOutOfMemory(e))
        {
            stderr.WriteLine($"nativeig: {Terminal.Safe(e.Message)}");
            if (CommandLineHint(e) is { } hint) stderr.WriteLine($"nativeig: {hint}");
            return Failure;
        }
    }

    /// <summary>The library's messages name API parameters, not flags; here each gets the flag that does the same.</summary>
    private static string? CommandLineHint(Exception e) => e switch
    {
        WeightsFormatException w when w.Message.Contains("SHA-256 mismatch", StringComparison.Ordinal) => "to use other weights on purpose, pass --skip-checksum.",
        FileNotFoundException f when f.Message.StartsWith("No weights found", StringComparison.Ordinal) => "pass --weights PATH, or run `nativeig weights fetch`.",
        _ when Devices.IsOutOfMemory(e) => "lower --batch, or leave out --device to run on the CPU.",
        NativeIg.Onnx.OnnxFormatException o when o.Message.Contains("set the input size to match", StringComparison.Ordinal)
            => "--input-size (or \"inputSize\" in the model's .json sidecar) must be the size the model declares; leave it out to use the declared size.",
        _ => null,
    };

    /// <summary>`nativeig completion bash|zsh|fish`: the script that makes the shell complete commands, options and their values.</summary>
    private static int Completion(Arguments a, TextWriter stdout)
    {
        if (a.Positional.Count != 1) throw new UsageException("completion takes one shell: bash, zsh or fish.");
        stdout.Write(CommandLine.Script(a.Positional[0]));
        return Success;
    }

    /// <summary>`nativeig complete --position N -- LINE`: the completions at character N of LINE.</summary>
    private static int Complete(Arguments a, TextWriter stdout)
    {
        var line = string.Join(' ', a.Positional);
        int position = a.Int("--position") ?? line.Length;
        foreach (var word in CommandLine.Complete(line, position)) stdout.WriteLine(word);
        return Success;
    }

    /// <summary>`nativeig model PATH.onnx`: the graph summary, or every unsupported node (exit 1).</summary>
    private static int DescribeModel(Arguments a, TextWriter stdout)
    {
        if (a.Positional.Count != 1) throw new UsageException("model takes one PATH.onnx.");
        var path = a.Positional[0];
        if (!File.Exists(path)) throw new FileNotFoundException($"Model file not found: {path}", path);
        var withModel = new Arguments(["--model", path, .. a.Raw], Help.Model, ModelChoice.ValueOptions, ModelChoice.Flags);
        var model = NativeIg.Onnx.OnnxModel.Load(path, ModelChoice.PreprocessingFor(withModel, path), a.Value("--output-name"));
        stdout.WriteLine(model.Summary());
        return Success;
    }

    /// <summary>Loads weights through the resolver (explicit path, NATIVEIG_WEIGHTS, weights/) onto the chosen device.</summary>
    internal static GoogLeNet LoadModel(Arguments a, ComputeDevice? device)
    {
        var model = GoogLeNet.Load(WeightsResolver.Resolve(a.Value("--weights")), verifyChecksum: !a.Flag("--skip-checksum"));
        return device is null ? model : model.ToDevice(device);
    }

    /// <summary>
    /// --device: cpu (default: the SIMD kernels), cuda, opencl, ilgpu-cpu (ILGPU's CPU accelerator, slow:
    /// for debugging), or auto (CUDA, then OpenCL, then cpu). Null means the CPU kernels.
    /// </summary>
    internal static ComputeDevice? OpenDevice(Arguments a)
    {
        var device = OpenDeviceNamed(a);
        s_device.Value = device is null ? "cpu" : $"{device.Kind} {device.Name}";
        return device;
    }

    private static ComputeDevice? OpenDeviceNamed(Arguments a)
    {
        var name = (a.Value("--device") ?? "cpu").ToLowerInvariant();
        switch (name)
        {
            case "cpu": return null;
            case "auto":
                foreach (var kind in new[] { "cuda", "opencl" })
                {
                    try { return Devices.Open(kind); }
                    catch (InvalidOperationException) { }
                }
                return null;
            case "cuda" or "opencl" or "ilgpu-cpu":
                try { return Devices.Open(name); }
                catch (InvalidOperationException e) { throw new IOException(e.Message); }
            default:
                throw new UsageException($"--device must be cpu, cuda, opencl, ilgpu-cpu or auto, got '{name}'.");
        }
    }

    /// <summary>The name standard input has in messages and outputs when an IMAGE is `-`.</summary>
    internal const string StandardInputName = "stdin";

    /// <summary>
    /// An image ready for the model from a path, or from standard input for `-` (read once, at most
    /// <see cref="ImageLoader.MaxFileBytes"/>, checked and decoded like a file).
    /// </summary>
    internal static Tensor LoadImage(string path, Stream? standardInput = null, int size = ImageLoader.DefaultSize)
    {
        if (path != "-") return ImageLoader.LoadForModel(path, size);
        using var input = standardInput ?? Console.OpenStandardInput();
        using var memory = new MemoryStream();
        var buffer = new byte[1 << 16];
        int read;
        while ((read = input.Read(buffer)) > 0)
        {
            if (memory.Length + read > ImageLoader.MaxFileBytes)
                throw new ImageFormatException($"{StandardInputName}: more than {ImageLoader.MaxFileBytes:N0} bytes; not an image this tool reads.");
            memory.Write(buffer, 0, read);
        }
        return ImageLoader.DecodeForModel(memory.ToArray(), StandardInputName, size);
    }

    /// <summary>
    /// --threads for this command's work, as a scope (not the process-wide default): the command line also
    /// runs inside other processes (the tests run many commands side by side), and one must not change another's.
    /// </summary>
    internal static IDisposable ApplyThreads(Arguments a)
    {
        int? threads = a.Int("--threads");
        if (threads is < 1 or > 1024) throw new UsageException($"--threads must be in 1…1024, got {threads}.");
        return ComputeThreads.Limit(threads);
    }

    // NaN and infinities (a target the model gives no probability, say) are written as "NaN"/"Infinity" rather than failing the whole record.
    /// <summary>"nativeig 1.0.0 (kernels: AVX2+FMA; .NET 10.0.1; linux-x64)": what to put in a bug report.</summary>
    internal static string Version =>
        $"nativeig {typeof(Program).Assembly.GetName().Version?.ToString(3)} (kernels: {Gemm.InstructionSetPath}; .NET {Environment.Version}; {System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier})";

    /// <summary>The top classes as JSON: [{ index, label, probability }], best first.</summary>
    internal static System.Text.Json.Nodes.JsonArray TopJson(IEnumerable<(int Index, float Probability)> top, ImageNetLabels labels) =>
        new(top.Select(t => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
        {
            ["index"] = t.Index, ["label"] = labels[t.Index], ["probability"] = Math.Round((double)t.Probability, 5),
        }).ToArray());

    /// <summary>
    /// Writes one `--json` line in the one result schema (<see cref="ExplanationJson"/>): schema_version
    /// first, the command's fields, then the tool, device and threads that report.jsonl lines carry too.
    /// </summary>
    internal static void WriteJson(TextWriter stdout, System.Text.Json.Nodes.JsonObject fields)
    {
        var o = new System.Text.Json.Nodes.JsonObject { ["schema_version"] = ExplanationJson.SchemaVersion };
        foreach (var (key, value) in fields.ToArray())
        {
            fields.Remove(key);
            o[key] = value;
        }
        o["tool"] = Version;
        o["device"] = s_device.Value ?? "cpu";
        o["threads"] = ComputeThreads.Current;
        stdout.WriteLine(o.ToJsonString(ExplanationJson.Options));
    }

    /// <summary>The device this command runs on, as the JSON names it (set by <see cref="OpenDevice"/>; per call, so in-process runs do not mix).</summary>
    private static readonly AsyncLocal<string?> s_device = new();

    internal static string Percent(double p) => (p * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}

internal sealed class HelpRequested(string text) : Exception("help")
{
    public string Text { get; } = text;
}

/// <summary>Options (--name value / --flag) and positional arguments, checked against the command's list.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string?> _options = new();
    public List<string> Positional { get; } = [];

    /// <summary>The arguments as given (after @file expansion).</summary>
    public string[] Raw { get; }

    /// <summary>
    /// Parses with System.CommandLine (<see cref="CommandLine"/>): --name value, --name=value, the short
    /// aliases, @file, `--` (everything after it is positional) and `-` (standard input) as a positional.
    /// -h/--help before any `--` asks for <paramref name="help"/>. Every parse error is a usage error (exit 2).
    /// </summary>
    public Arguments(string[] args, string help, string[] valueOptions, string[] flags)
    {
        int doubleDash = Array.IndexOf(args, "--");
        if ((doubleDash < 0 ? args : args[..doubleDash]).Any(a => a is "-h" or "--help")) throw new HelpRequested(help);
        foreach (var a in doubleDash < 0 ? args : args[..doubleDash])
            if (a.IndexOf('=') is var eq && eq > 0 && flags.Contains(a[..eq])) throw new UsageException($"Option '{a[..eq]}' takes no value.");
        var (command, words) = CommandLine.Define("nativeig", "", valueOptions, flags, "ARGS");
        var result = command.Parse(args, CommandLine.Configuration);
        if (result.Errors.Count > 0) throw new UsageException(result.Errors[0].Message);
        Raw = result.Tokens.Select(t => t.Value).ToArray();
        // An unknown option that looks like one is an error, not an IMAGE (after `--` anything is an IMAGE).
        foreach (var token in result.Tokens)
        {
            if (token.Type == System.CommandLine.Parsing.TokenType.DoubleDash) break;
            if (token.Type == System.CommandLine.Parsing.TokenType.Argument && token.Value.Length > 1 && token.Value[0] == '-' && !double.TryParse(token.Value, CultureInfo.InvariantCulture, out _)
                && result.GetResult(words)?.Tokens.Contains(token) == true)
                throw new UsageException($"Unknown option '{token.Value}'.");
        }
        foreach (var option in command.Options)
            if (result.GetResult(option) is { Implicit: false } given)
                _options[option.Name] = option is System.CommandLine.Option<string> text ? result.GetValue(text) : null;
        Positional.AddRange(result.GetValue(words) ?? []);
    }

    public bool Flag(string name) => _options.ContainsKey(name);
    public string? Value(string name) => _options.GetValueOrDefault(name);

    public int? Int(string name)
    {
        var v = Value(name);
        if (v is null) return null;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int r)) throw new UsageException($"{name} needs an integer (at most {int.MaxValue}), got '{v}'.");
        return r;
    }

    public double? Double(string name)
    {
        var v = Value(name);
        if (v is null) return null;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || !double.IsFinite(r)) throw new UsageException($"{name} needs a finite number, got '{v}'.");
        return r;
    }
}

internal static class Help
{
    public const string Main = """
        nativeig — Inception V1 (GoogLeNet) and Integrated Gradients in pure C#.

        Usage:
          nativeig classify IMAGE... [--top K] [--json]            top-K ImageNet labels per image
          nativeig explain [IMAGE] [--target LABEL|INDEX] ...      Integrated Gradients attributions and figures
          nativeig explain IMAGE --method ig|gradient|grad-x-input|smoothgrad|blur-ig|guided-ig|xrai
                                                                  another attribution method; --layer, --neuron for layers
          nativeig compare [IMAGE]                                every method side by side in one figure
          nativeig sanity [IMAGE] [--blocks N]                    cascading randomisation: does the map depend on the model?
          nativeig model PATH.onnx                                an ONNX model's inputs, outputs, ops, parameters
          nativeig weights fetch [--from DIR] [--to DIR]          get the weights and labels (checksum-verified)
          nativeig weights path                                   the weights file the commands would use
          nativeig explain IMAGE|DIR|GLOB|@LIST... [--out DIR] [--shard K/N] [--force]   many images: a report, a gallery, a dataset view
          nativeig merge DIR... [--out DIR]                       one report, gallery and dataset view over several runs (shards)
          nativeig completion bash|zsh|fish                       shell completion: source <(nativeig completion bash)

        Run 'nativeig COMMAND --help' for a command's options; 'nativeig --version' for the version and
        the instruction-set path the kernels take on this machine.
        Weights: --weights PATH, else $NATIVEIG_WEIGHTS, else weights/bvlc_googlenet.caffemodel, else the
        per-user cache ($XDG_CACHE_HOME/nativeig or ~/.cache/nativeig) that `nativeig weights fetch` fills.

        """;

    public const string Compare = """
        Usage: nativeig compare [IMAGE] [options]

        Explains one image with IG, SmoothGrad-IG, Blur IG, Guided IG and XRAI (or the --methods chosen) and
        draws them side by side (OUT/compare.png): the original, each method's Σ|attributions| clipped at the
        same percentile and scaled to [0, 1] under one colour bar, each titled with its completeness gap, and
        XRAI's top 30%. Prints each method's cost in path images (forward and backward passes of one image)
        before it starts, progress per batch, then each one's delta, cost and time. At the defaults: IG 51,
        SmoothGrad-IG 210, Blur IG 101, XRAI 102, and Guided IG at least 801 — its moves follow the gradients,
        so its cost depends on the image more than on M (1,673 on the fireboat at the default M, 1,241 at M = 20).

        Options:
          -t, --target LABEL|INDEX   class to explain (default: the top class)
          -m, --steps M          IG's steps and XRAI's per baseline (default 50); Blur IG takes 2M and Guided IG
                                 4M (the papers' 100 and 200 at the default), each SmoothGrad-IG copy 0.4M
          --methods LIST         which to run, comma-separated: ig, smoothgrad-ig, blur-ig, guided-ig, xrai (default: all)
          --noise-samples N      SmoothGrad-IG's noisy copies (default 10)
          --noise-sigma S        their σ as a fraction of the image's range (default 0.15)
          --noise-seed N         their seed (default 0)
          -b, --batch B          path images per forward/backward batch, 1…256 (default 32)
          --output KIND          probability (default) or logit
          -o, --out DIR          output folder (default ./ig-out/<image-name>/)
          --colormap NAME        inferno (default), viridis, diverging
          --clip PCT             the shared percentile clip (default 99)
          -j, --json             one JSON object on stdout
          -q, --quiet            no progress on stderr
          --model PATH.onnx      an ONNX model instead of GoogLeNet, with --input-size, --mean, --std, --bgr,
                                 --scale, --output-name, --mean-image as for explain
          --weights PATH         the caffemodel
          --labels PATH          the labels file
          --skip-checksum        do not verify the weights' SHA-256
          --threads N            worker threads (default: all cores)
          --device NAME          cpu (default), cuda, opencl, ilgpu-cpu, or auto

        """;

    public const string Sanity = """
        Usage: nativeig sanity [IMAGE] [options]

        The model-randomisation sanity check of Adebayo et al. (2018) for GoogLeNet: re-draws the weights of
        the top blocks (the classifier, then inception_5b, 5a, …), one more block per step, explains the image
        with each randomised model, and prints Spearman's rank correlation with the trained model's map
        (of |attributions| and of the signed attributions, summed over channels). A method that explains
        the model shows rho falling well below 1; one that stays near 1 is showing the image, not the model.

        Options:
          -t, --target LABEL|INDEX   class to explain (default: the top class)
          --method NAME          ig (default), gradient or grad-x-input
          -m, --steps M          IG's steps (default 32)
          --blocks N             how many top blocks to randomise, one per step (default 4)
          --seed N               the random weights' seed (default 0)
          -b, --batch B          path images per forward/backward batch (default 32)
          -j, --json             one JSON object on stdout
          -q, --quiet            no progress on stderr
          --weights PATH         the caffemodel
          --labels PATH          the labels file
          --skip-checksum        do not verify the weights' SHA-256
          --threads N            worker threads (default: all cores)
          --device NAME          cpu (default), cuda, opencl, ilgpu-cpu, or auto

        """;

    public const string Merge = """
        Usage: nativeig merge DIR... [--out DIR]

        Combines the image folders of several explain runs (the shards of one data set, run apart) into one
        report.jsonl, index.html and dataset/ view, written into --out (default: the first DIR). The pictures
        stay where they are; the gallery links to them.

        """;

    public const string Completion = """
        Usage: nativeig completion bash|zsh|fish

        Prints a script that makes the shell complete nativeig's commands, options and option values:
          bash:  source <(nativeig completion bash)      (or save it in ~/.local/share/bash-completion/completions/nativeig)
          zsh:   source <(nativeig completion zsh)
          fish:  nativeig completion fish | source

        """;

    public const string Model = """
        Usage: nativeig model PATH.onnx [--input-size H] [--mean a,b,c] [--std a,b,c] [--bgr] [--scale S]
                                        [--mean-image PATH] [--output-name NAME]

        Reads an ONNX model, builds it on the engine and prints its input and preprocessing, its output
        and class count, the op counts, the parameters and the multiply-adds per image. An op the engine
        does not have is an error that names every such node (exit 1), before any work.
        Preprocessing (how an RGB image in [0,1] becomes the model's input) comes from the options, else
        from a sidecar PATH.onnx.json, else ImageNet's mean and std on RGB [0,1].

        """;

    public const string Weights = """
        Usage: nativeig weights fetch [--from DIR] [--to DIR]
               nativeig weights path [--weights PATH]

        fetch puts bvlc_googlenet.caffemodel and synset_words.txt into the per-user cache
        ($XDG_CACHE_HOME/nativeig, else ~/.cache/nativeig) or --to DIR: copied from --from DIR when given
        (a folder holding them, e.g. a shared mirror), else downloaded (the BVLC model zoo, ~51 MB). The
        weights must match a known GoogLeNet checksum; each file is written to a temporary name and
        renamed only when complete. path prints the weights file classify and explain would use.

        """;

    public const string Classify = """
        Usage: nativeig classify IMAGE... [options]

        Classifies each image (JPEG, PNG, BMP, GIF, or a .npy [224, 224, 3] float32 array in [0,1]),
        resized with padding to 224×224 like TensorFlow's resize_with_pad. IMAGE `-` reads one image
        from standard input. Arguments may come from a file: @args.txt (one per line); after `--`
        every argument is an IMAGE.

        Options:
          --top K            labels to show per image (default 5)
          -j, --json         one JSON object per image on stdout
          --model PATH.onnx  explain/classify this ONNX model instead of GoogLeNet (see 'nativeig model --help')
          --input-size H     the model's square input size (default 224, or the sidecar's)
          --mean a,b,c       per-channel mean subtracted after --scale, in the model's channel order
          --std a,b,c        per-channel std divided by (default ImageNet's: 0.229,0.224,0.225)
          --bgr              the model takes blue, green, red (Caffe and CNTK exports)
          --scale S          multiply the [0,1] pixels by S first (255 for 0…255 models)
          --output-name NAME the graph output to use (default: the first)
          --mean-image PATH  a mean image [3, H, W] subtracted after --scale (.npy, or an ONNX file holding it)
          --weights PATH     the caffemodel (default: $NATIVEIG_WEIGHTS, then weights/bvlc_googlenet.caffemodel)
          --labels PATH      synset_words.txt or ImageNetLabels.txt (default: found beside the weights or in labels/)
          --skip-checksum       do not verify the weights' SHA-256
          --threads N        worker threads (default: all cores)
          --device NAME      cpu (default), cuda, opencl, ilgpu-cpu, or auto (CUDA, then OpenCL, then cpu)
          -h, --help         this help

        Exit codes: 0 success, 1 a failure (a bad image: the others are still classified), 2 bad arguments,
        130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

        """;

    public const string Explain = """
        Usage: nativeig explain [IMAGE] [options]

        Integrated Gradients for one image (default: fireboat.jpg from the folder $NATIVEIG_EXAMPLES names,
        else the built-in giant panda photo; `-` reads the image from standard input) against a baseline, with the completeness check Σattr vs F(x) − F(baseline).
        Arguments may come from a file: @args.txt (one per line); after `--` every argument is an IMAGE.

        Options:
          -t, --target LABEL|INDEX   class to explain, by name ("fireboat") or index (default: the top class)
          -m, --steps M          path steps, 1…1000000 (default 50)
          --auto-steps TOL       start at 50 steps and double until |delta| ≤ TOL·|F(x) − F(baseline)|, TOL in (0, 1]
          --max-steps N          limit for --auto-steps, 50…1000000 (default 1600)
          -b, --batch B          path images per forward/backward batch, 1…256 (default 32)
          --baseline SPEC        black (default), white, noise[:seed], blur[:sigma ≤ 1000], or an image PATH
          --rule RULE            trapezoid (default), left, right, middle, gauss-legendre
          --output KIND          probability (default) or logit
          -o, --out DIR          output folder (default ./ig-out/<image-name>/)
          --colormap NAME        inferno (default), viridis, diverging
          --clip PCT             clip the mask at this percentile of |attr| before scaling (default 99;
                                 100 gives the tutorial's exact, unclipped look)
          --signed               signed mask: positive and negative attributions in two colours
          -j, --json             one JSON object on stdout instead of text
          -q, --quiet            no progress and no hints on stderr (errors still go there)
          --method NAME          ig (default), gradient, grad-x-input, smoothgrad, blur-ig (100 steps from σ = 50),
                                 guided-ig (200 steps), xrai (regions from IG with black and white baselines),
                                 conductance (with --layer); see the README's "Methods"
          --noise-samples N      SmoothGrad around ig, gradient or grad-x-input: N noisy copies (smoothgrad: 50)
          --noise-sigma S        the noise's σ as a fraction of the image's range (default 0.15)
          --noise-seed N         the noise's seed (default 0): the same seed gives the same attributions
          --layer NAME           attribute to a layer's activations (e.g. inception_4d/output): layer IG, or
                                 conductance with --method conductance
          --neuron LAYER:CHANNEL which pixels drive one channel of a layer (its mean activation)
          --model PATH.onnx      explain this ONNX model instead of GoogLeNet (see 'nativeig model --help')
          --input-size H         the model's square input size (default 224, or the sidecar's)
          --mean a,b,c           per-channel mean subtracted after --scale, in the model's channel order
          --std a,b,c            per-channel std divided by (default ImageNet's: 0.229,0.224,0.225)
          --bgr                  the model takes blue, green, red (Caffe and CNTK exports)
          --scale S              multiply the [0,1] pixels by S first (255 for 0…255 models)
          --output-name NAME     the graph output to explain (default: the first)
          --mean-image PATH      a mean image [3, H, W] subtracted after --scale: a .npy, or an ONNX
                                 preprocessing model holding it (ML.NET's ResNetPreprocess.onnx)
          --weights PATH         the caffemodel
          --labels PATH          synset_words.txt or ImageNetLabels.txt; for an ONNX model without 1000
                                 classes, one label per line (default: "class 0", "class 1", …)
          --skip-checksum        do not verify the weights' SHA-256
          --threads N            worker threads (default: all cores)
          --device NAME          cpu (default), cuda, opencl, ilgpu-cpu, or auto (CUDA, then OpenCL, then cpu)
          -h, --help             this help

        Many images: several IMAGEs, a folder (its image files at any depth), a glob ("photos/*.jpg") or
        @list.txt (one path per line) load the model once and write OUT/NAME/ per image (default OUT:
        ig-out), then OUT/report.jsonl (one line per image, errors included), OUT/index.html (a gallery
        sortable by delta and confidence) and OUT/dataset/ (per predicted class, the mean mask; summary.csv
        and summary.json). A rerun skips the images already done with the same options.
          -t, --target top:K     explain each image's K most probable classes (1…10), into NAME/top-1/ … top-K/
          --force                redo images that are already done
          --shard K/N            this process's 1/N of the images (stable: by a hash of each name)
          --shards N             N, with K from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX); a Slurm
                                 job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT) needs neither

        Writes figure.png, mask.png, overlay.png, saturation.png, interpolation.png, attributions.npy and
        path.npy into the output folder, each under a temporary name first and all renamed into place at
        the end: an interrupted run (Ctrl-C: exit 130, SIGTERM: 143) leaves the previous outputs intact.
        Exit codes: 0 success, 1 a bad file (image, weights, labels, output folder), 2 bad arguments.

        """;
}

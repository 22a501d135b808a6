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

    /// <summary>
    /// The files an explanation wrote, in the one shape every method's JSON has: an object from each file's
    /// name without its extension ("figure", "mask", "attributions", …) to its path.
    /// </summary>
    internal static System.Text.Json.Nodes.JsonObject FilesJson(IEnumerable<string> paths)
    {
        var files = new System.Text.Json.Nodes.JsonObject();
        foreach (var path in paths) files[Path.GetFileNameWithoutExtension(path)] = path;
        return files;
    }

    /// <summary>The device this command runs on, as the JSON names it (set by <see cref="OpenDevice"/>; per call, so in-process runs do not mix).</summary>
    private static readonly AsyncLocal<string?> s_device = new();

    internal static string Percent(double p) => (p * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}

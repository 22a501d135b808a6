using System.Diagnostics;
using NativeIg.Cli;
using NativeIg.InceptionV1;
using Xunit;
using Xunit.Abstractions;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[CollectionDefinition("fuzz", DisableParallelization = true)]
public class FuzzCollection;

/// <summary>
/// A bounded fuzz run over every parser of untrusted input: images of each format, .npy files,
/// caffemodels, ONNX models and the command line. Seeds are made here (no committed binaries), mutations are
/// deterministic (seeded), and every case must end in success or the parser's own typed error within
/// 10 s and 1.5 GiB of allocation. A failure names the input kind, seed and case, so it can be replayed
/// and turned into a named regression test (HostileInputTests).
/// </summary>
[Collection("fuzz")]
public class FuzzTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CaseTime = TimeSpan.FromSeconds(10);
    private const long CaseBytes = 3L << 29; // 1.5 GiB

    /// <summary>Runs one case and checks its outcome, time and allocation.</summary>
    private static void Case(string what, Action action, params Type[] typed)
    {
        long allocated = GC.GetTotalAllocatedBytes();
        var clock = Stopwatch.StartNew();
        try { action(); }
        catch (Exception e) when (typed.Any(t => t.IsInstanceOfType(e)))
        {
            Assert.DoesNotContain(e.Message, char.IsControl);
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: untyped {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        }
        Assert.True(clock.Elapsed < CaseTime, $"{what}: took {clock.Elapsed}");
        long used = GC.GetTotalAllocatedBytes() - allocated;
        Assert.True(used < CaseBytes, $"{what}: allocated {used:N0} bytes");
    }

    /// <summary>Bit flips, interesting bytes, cuts, copies and deletions, a few per case.</summary>
    private static byte[] Mutate(byte[] seed, Random r)
    {
        var b = new List<byte>(seed);
        int edits = 1 + r.Next(4);
        for (int e = 0; e < edits && b.Count > 0; e++)
        {
            int at = r.Next(b.Count);
            switch (r.Next(7))
            {
                case 0: b[at] ^= (byte)(1 << r.Next(8)); break;
                case 1: b[at] = new byte[] { 0, 0xFF, 0x7F, 0x80, 0x01, 0xFE }[r.Next(6)]; break;
                case 2: b.RemoveRange(at, b.Count - at); break; // truncate
                case 3: b.RemoveRange(at, Math.Min(b.Count - at, 1 + r.Next(16))); break;
                case 4: b.InsertRange(at, b.Skip(r.Next(b.Count)).Take(1 + r.Next(32)).ToArray()); break;
                case 5: for (int i = 0; i < 4 && at + i < b.Count; i++) b[at + i] = 0xFF; break;
                default: b[at] = (byte)r.Next(256); break;
            }
        }
        return b.ToArray();
    }

    [Fact]
    public void ImagesOfEveryFormat()
    {
        var seeds = new (string Name, byte[] Bytes)[]
        {
            ("png", TestImages.Png(23, 17, 3)), ("jpg", TestImages.Jpeg(23, 17, 3)), ("bmp", TestImages.Bmp(23, 17, 3)),
            ("gif", TestImages.Gif(9, 7)), ("tga", TestImages.Tga(5, 4, 3)),
        };
        int cases = 0, decoded = 0;
        foreach (var (name, bytes) in seeds)
        {
            var r = new Random(name.GetHashCode(StringComparison.Ordinal) & 0xFFFF);
            for (int i = 0; i < 800; i++, cases++)
            {
                var input = Mutate(bytes, r);
                Case($"{name} case {i}", () =>
                {
                    using var t = ImageLoader.Decode(input, $"fuzz.{name}");
                    decoded++;
                }, typeof(ImageFormatException));
            }
        }
        output.WriteLine($"{cases} image cases, {decoded} decoded, the rest refused with ImageFormatException");
        Assert.Equal(4000, cases);
    }

    [Fact]
    public void NpyFiles()
    {
        var dir = TempDir();
        var valid = Path.Combine(dir, "seed.npy");
        NativeIg.Tensors.IO.Npy.Write(valid, Random(2 * 3 * 3, 1), [2, 3, 3]);
        var seed = File.ReadAllBytes(valid);
        var r = new Random(11);
        var path = Path.Combine(dir, "case.npy");
        for (int i = 0; i < 500; i++)
        {
            File.WriteAllBytes(path, Mutate(seed, r));
            Case($"npy case {i}", () => { using var t = NativeIg.Tensors.IO.Npy.Read(path); }, typeof(FormatException));
            Case($"npy image case {i}", () => { using var t = ImageLoader.Load(path); }, typeof(FormatException), typeof(ImageFormatException));
        }
    }

    [Fact]
    public void Caffemodels()
    {
        var seeds = new[] { CaffeWriter.Modern(), CaffeWriter.Legacy() };
        var r = new Random(7);
        int cases = 0;
        foreach (var seed in seeds)
        {
            Assert.NotEmpty(CaffeModelReader.Read(seed, "seed")); // the seeds themselves are valid
            for (int i = 0; i < 1000; i++, cases++)
            {
                var input = Mutate(seed, r);
                Case($"caffemodel case {cases}", () => CaffeModelReader.Read(input, "fuzz.caffemodel"), typeof(WeightsFormatException));
            }
        }
    }

    /// <summary>
    /// ONNX models: a small convolutional graph written by the test, mutated, through the reader and the
    /// graph builder (which also runs one image through it). Only OnnxFormatException and
    /// OnnxUnsupportedException may come out.
    /// </summary>
    [Fact]
    public void OnnxModels()
    {
        var seed = new OnnxWriter()
            .Input("x", [1, 3, 8, 8]).Output("y", [1, 5])
            .Initializer("w", [4, 3, 3, 3], Random(108, 1)).Initializer("b", [4], Random(4, 2)).Initializer("fc", [5, 4], Random(20, 3))
            .Node("Conv", ["x", "w", "b"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }), ("strides", new long[] { 1, 1 }))
            .Node("Relu", ["c"], ["r"])
            .Node("MaxPool", ["r"], ["p"], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }), ("ceil_mode", 1L))
            .Node("GlobalAveragePool", ["p"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc"], ["y"], ("transB", 1L))
            .ToArray();
        var preprocessing = new NativeIg.Onnx.OnnxPreprocessing { Height = 8, Width = 8 };
        var dir = TempDir();
        var path = Path.Combine(dir, "case.onnx");
        File.WriteAllBytes(path, seed);
        Assert.Equal(5, NativeIg.Onnx.OnnxModel.Load(path, preprocessing).Classes); // the seed itself is valid
        var r = new Random(13);
        int loaded = 0;
        for (int i = 0; i < 1500; i++)
        {
            File.WriteAllBytes(path, Mutate(seed, r));
            Case($"onnx case {i}", () => { NativeIg.Onnx.OnnxModel.Load(path, preprocessing); loaded++; },
                typeof(NativeIg.Onnx.OnnxFormatException), typeof(NativeIg.Onnx.OnnxUnsupportedException));
        }
        output.WriteLine($"1500 ONNX cases, {loaded} loaded, the rest refused with a typed error");
    }

    [SharedFact]
    public void CommandLines()
    {
        string[] commands = ["classify", "explain", "nonsense"];
        string[] options = ["--steps", "--batch", "--max-steps", "--auto-steps", "--baseline", "--rule", "--output", "--clip", "--top",
            "--threads", "--target", "--colormap", "--device", "--out", "--json", "--signed", "--unknown", "-x"];
        string[] values = ["0", "-1", "1", "50", "2147483647", "2147483648", "99999999999999", "NaN", "Infinity", "-Infinity", "1e308", "0.5",
            "", "abc", "blur:1e9", "blur:0", "noise:abc", "noise:-5", "white", "gauss-legendre", "logit", "fireboat", "1000", "\u0000", "../..", "/dev/zero"];
        var missingWeights = Path.Combine(TempDir(), "none.caffemodel");
        var image = Shared("images/fireboat.jpg");
        var r = new Random(5);
        for (int i = 0; i < 400; i++)
        {
            var args = new List<string> { commands[r.Next(commands.Length)] };
            if (r.Next(3) > 0) args.Add(image);
            for (int k = r.Next(4); k > 0; k--)
            {
                args.Add(options[r.Next(options.Length)]);
                if (r.Next(5) > 0) args.Add(values[r.Next(values.Length)]);
            }
            args.AddRange(["--weights", missingWeights]); // any run that gets past the arguments stops at the weights
            var stdout = new StringWriter(); var stderr = new StringWriter();
            int code = -1;
            Case($"command line {i}: {string.Join(' ', args)}", () => code = Program.Run(args.ToArray(), stdout, stderr));
            Assert.True(code is 0 or 1 or 2, $"command line {i}: {string.Join(' ', args)} exited {code}");
            if (code != 0) Assert.StartsWith("nativeig:", stderr.ToString().TrimStart());
        }
    }

    /// <summary>
    /// Input folders of random shape: images, links to files and folders (inside, outside, ".", "..", a
    /// sibling, nothing), FIFOs, a device, hidden entries, deep nesting. Listing must end, take each real
    /// file at most once, and every image must load or fail with a typed error, each case within its bounds.
    /// </summary>
    [Fact]
    public void InputFoldersWithLinksFifosAndLoops()
    {
        var r = new Random(17);
        var outside = TempDir();
        File.WriteAllBytes(Path.Combine(outside, "outside.png"), TestImages.Png());
        int listed = 0;
        for (int c = 0; c < 60; c++)
        {
            var root = Path.Combine(TempDir(), "in");
            Directory.CreateDirectory(root);
            var folders = new List<string> { root };
            int files = 0;
            for (int k = 0; k < 12; k++)
            {
                var at = folders[r.Next(folders.Count)];
                var name = Path.Combine(at, $"e{k}{(r.Next(4) == 0 ? "" : ".png")}");
                if (r.Next(6) == 0) name = Path.Combine(at, $".hidden{k}.png");
                switch (r.Next(9))
                {
                    case 0: Directory.CreateDirectory(name); folders.Add(name); break;
                    case 1: Directory.CreateSymbolicLink(name, "."); break;
                    case 2: Directory.CreateSymbolicLink(name, ".."); break;
                    case 3: Directory.CreateSymbolicLink(name, r.Next(2) == 0 ? root : outside); break;
                    case 4: File.CreateSymbolicLink(name, Path.Combine(outside, r.Next(2) == 0 ? "outside.png" : "missing.png")); break;
                    case 5: MakeFifo(name); break;
                    case 6: File.CreateSymbolicLink(name, "/dev/zero"); break;
                    default: File.WriteAllBytes(name, r.Next(3) == 0 ? Mutate(TestImages.Png(), r) : TestImages.Png(seed: k)); files++; break;
                }
            }
            IReadOnlyList<NativeIg.Ig.ImageInput> inputs = [];
            Case($"folder case {c}: listing", () => inputs = NativeIg.Ig.ImageInputs.Expand([root], Path.Combine(root, "out"), _ => { }), typeof(ArgumentException));
            Assert.True(inputs.Count <= 2 * (files + 2), $"folder case {c}: {inputs.Count} inputs from {files} files");
            listed += inputs.Count;
            foreach (var input in inputs)
                Case($"folder case {c}: {input.Name}", () => { using var t = ImageLoader.Load(input.Path); },
                    typeof(ImageFormatException), typeof(FileNotFoundException), typeof(FormatException));
        }
        output.WriteLine($"60 folder shapes, {listed} inputs listed and read or refused");
    }

    /// <summary>
    /// ONNX graphs that are valid protobuf but hostile in shape: chains of random depth, huge or negative
    /// declared sizes, dilations and pads at their limits, external data through links, FIFOs, absolute and
    /// escaping paths, and offsets or lengths near 2^63. Each loads or is refused with a typed error, in bounds.
    /// </summary>
    [Fact]
    public void OnnxGraphsOfHostileShape()
    {
        var r = new Random(19);
        var secretDir = TempDir();
        File.WriteAllBytes(Path.Combine(secretDir, "secret"), new byte[4096]);
        long[] sizes = [1, 8, 512, 8193, 1 << 20, int.MaxValue, 1L << 40, -1, 0]; // 8193: just past the largest size taken
        long[] big = [0, 48, 47, 1L << 31, long.MaxValue, long.MaxValue - 47, -48];
        for (int c = 0; c < 120; c++)
        {
            var dir = TempDir();
            var model = new OnnxWriter();
            long side = r.Next(3) == 0 ? sizes[r.Next(sizes.Length)] : 8;
            model.Input("x", [1, 3, side, side]).Output("y", [1, 4]);
            switch (r.Next(4))
            {
                case 0:
                    var location = r.Next(5) switch { 0 => "link/secret", 1 => "fifo.bin", 2 => Path.Combine(secretDir, "secret"), 3 => "../../etc/passwd", _ => "w.bin" };
                    Directory.CreateSymbolicLink(Path.Combine(dir, "link"), secretDir);
                    MakeFifo(Path.Combine(dir, "fifo.bin"));
                    File.WriteAllBytes(Path.Combine(dir, "w.bin"), new byte[48]);
                    model.ExternalInitializer("w", [4, 3, 1, 1], location, big[r.Next(big.Length)]);
                    break;
                default:
                    model.Initializer("w", [4, 3, 1, 1], Random(12, c));
                    break;
            }
            var dilation = (long)new[] { 1, 2, 64, 65 }[r.Next(4)];
            model.Node("Conv", ["x", "w"], ["c0"], ("kernel_shape", new long[] { 1, 1 }), ("dilations", new long[] { dilation, dilation }),
                ("pads", new long[] { 0, 0, sizes[r.Next(3)], 0 }));
            int depth = new[] { 1, 10, 1000, 50_000 }[r.Next(4)];
            for (int d = 0; d < depth; d++) model.Node(r.Next(2) == 0 ? "Identity" : "Relu", [$"c{d}"], [$"c{d + 1}"]);
            model.Node("GlobalAveragePool", [$"c{depth}"], ["g"]).Node("Flatten", ["g"], ["y"]);
            var path = model.Save(dir);
            Case($"hostile onnx case {c}", () => Task.Run(() => NativeIg.Onnx.OnnxModel.Load(path)).GetAwaiter().GetResult(),
                typeof(NativeIg.Onnx.OnnxFormatException), typeof(NativeIg.Onnx.OnnxUnsupportedException));
        }
    }
}

using System.Diagnostics;
using NativeIg.Cli;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors;
using StbImageWriteSharp;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Test images of every supported format, made here (no binaries from elsewhere).</summary>
internal static class TestImages
{
    public static byte[] Pixels(int w, int h, int seed)
    {
        var r = new System.Random(seed);
        var p = new byte[w * h * 3];
        r.NextBytes(p);
        return p;
    }

    public static byte[] Png(int w = 16, int h = 12, int seed = 1) => Write(s => new ImageWriter().WritePng(Pixels(w, h, seed), w, h, ColorComponents.RedGreenBlue, s));
    public static byte[] Jpeg(int w = 16, int h = 12, int seed = 1) => Write(s => new ImageWriter().WriteJpg(Pixels(w, h, seed), w, h, ColorComponents.RedGreenBlue, s, 90));
    public static byte[] Bmp(int w = 16, int h = 12, int seed = 1) => Write(s => new ImageWriter().WriteBmp(Pixels(w, h, seed), w, h, ColorComponents.RedGreenBlue, s));
    public static byte[] Tga(int w = 16, int h = 12, int seed = 1) => Write(s => new ImageWriter().WriteTga(Pixels(w, h, seed), w, h, ColorComponents.RedGreenBlue, s));

    /// <summary>A w×h GIF89a with a 2-colour table whose image data is an LZW stream of clear codes and one pixel value repeated.</summary>
    public static byte[] Gif(int w = 4, int h = 4)
    {
        var b = new List<byte>();
        b.AddRange("GIF89a"u8.ToArray());
        b.AddRange([(byte)w, (byte)(w >> 8), (byte)h, (byte)(h >> 8), 0x80, 0, 0]); // global table of 2 colours
        b.AddRange([0, 0, 0, 255, 255, 255]);
        b.AddRange([0x2C, 0, 0, 0, 0, (byte)w, (byte)(w >> 8), (byte)h, (byte)(h >> 8), 0]);
        // LZW, minimum code size 2: clear (4), then w·h codes of colour 1 (3 bits each), then end (5).
        var codes = new List<int> { 4 };
        int count = w * h;
        // Stay below the first code-size change by clearing every 2 codes (each new entry grows the table).
        for (int i = 0; i < count; i++) { codes.Add(1); if (i % 2 == 1) codes.Add(4); }
        codes.Add(5);
        var bits = new List<byte>();
        int buffer = 0, used = 0;
        foreach (var code in codes)
        {
            buffer |= code << used; used += 3;
            while (used >= 8) { bits.Add((byte)buffer); buffer >>= 8; used -= 8; }
        }
        if (used > 0) bits.Add((byte)buffer);
        b.Add(2);
        for (int i = 0; i < bits.Count; i += 255)
        {
            int n = Math.Min(255, bits.Count - i);
            b.Add((byte)n);
            b.AddRange(bits.Skip(i).Take(n));
        }
        b.Add(0);
        b.Add(0x3B);
        return b.ToArray();
    }

    private static byte[] Write(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }
}

/// <summary>
/// One named regression test for each defect the hostile-input report (issue 11) listed; each failed
/// (hung, crashed, allocated gigabytes, or answered wrongly) before the fix.
/// </summary>
public class HostileImageTests
{
    [Fact]
    public void EveryFormatWeMakeDecodes()
    {
        foreach (var (name, bytes) in new[] { ("png", TestImages.Png()), ("jpg", TestImages.Jpeg()), ("bmp", TestImages.Bmp()), ("gif", TestImages.Gif()) })
        {
            using var t = ImageLoader.Decode(bytes, name);
            Assert.Equal(name == "gif" ? 4 : 12, t.Dim(0));
        }
    }

    /// <summary>Item 1: `head -c 13 fireboat.jpg` made classify spin forever inside the decoder.</summary>
    [Fact]
    public void EveryPrefixOfTheFireboatJpegFailsFastInsteadOfHanging()
    {
        var jpeg = File.ReadAllBytes(Shared("images/fireboat.jpg"));
        var clock = Stopwatch.StartNew();
        var lengths = Enumerable.Range(1, 200).Concat(Enumerable.Range(1, 40).Select(i => i * jpeg.Length / 41));
        foreach (int length in lengths)
        {
            var e = Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(jpeg[..length], $"prefix{length}.jpg"));
            Assert.Contains($"prefix{length}.jpg", e.Message);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"240 truncated JPEGs took {clock.Elapsed}");
    }

    /// <summary>Item 2: a JPEG whose frame header says 16384×16384 decoded (padded) into ~4 GB.</summary>
    [Fact]
    public void AJpegHeaderClaimingSixteenThousandSquaredPixelsIsRefused()
    {
        var jpeg = TestImages.Jpeg();
        int sof = FindMarker(jpeg, 0xC0);
        jpeg[sof + 5] = 0x40; jpeg[sof + 6] = 0x00; // height 16384
        jpeg[sof + 7] = 0x40; jpeg[sof + 8] = 0x00; // width 16384
        var e = Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(jpeg, "bomb.jpg"));
        Assert.Contains("16384×16384", e.Message);
        Assert.Contains("megapixels", e.Message);
        // Under the pixel limit but far more pixels than the bytes can encode: still refused.
        jpeg[sof + 5] = 0x10; jpeg[sof + 7] = 0x10; // 4096×4096 = 16.8 MP from a few hundred bytes
        e = Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(jpeg, "bomb.jpg"));
        Assert.Contains("decompression bomb", e.Message);
    }

    [Fact]
    public void ThePixelLimitIsConfigurable()
    {
        var png = TestImages.Png(16, 12);
        using (ImageLoader.Decode(png, "ok.png", maxPixels: 192)) { }
        var e = Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(png, "big.png", maxPixels: 191));
        Assert.Contains("over the limit", e.Message);
    }

    /// <summary>Item 2: a 1 KB BMP claiming a huge size decoded into gigabytes of padding.</summary>
    [Fact]
    public void ASmallBmpClaimingAHugeSizeIsRefused()
    {
        var bmp = TestImages.Bmp();
        BitConverter.GetBytes(30000).CopyTo(bmp, 18);
        BitConverter.GetBytes(30000).CopyTo(bmp, 22);
        var e = Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(bmp, "bomb.bmp"));
        Assert.Contains("bomb.bmp", e.Message);
        bmp = TestImages.Bmp();
        BitConverter.GetBytes(600).CopyTo(bmp, 18);
        BitConverter.GetBytes(600).CopyTo(bmp, 22);
        e = Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(bmp, "bomb.bmp"));
        Assert.Contains("truncated", e.Message);
    }

    /// <summary>Item 2: a 35-byte GIF with a 65535×65535 screen decoded into gigabytes.</summary>
    [Fact]
    public void ATinyGifWithAHugeScreenIsRefused()
    {
        var gif = TestImages.Gif();
        gif[6] = gif[7] = gif[8] = gif[9] = 0xFF; // screen 65535×65535, first image still 4×4
        var e = Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(gif, "bomb.gif"));
        Assert.Contains("bomb.gif", e.Message);
    }

    /// <summary>Item 2: truncated BMP, GIF and PNG files decoded silently; TGA, PSD and HDR cannot be checked and are refused.</summary>
    [Fact]
    public void TruncatedFilesOfEveryFormatAndUncheckableFormatsAreRefused()
    {
        foreach (var (name, bytes) in new[] { ("png", TestImages.Png()), ("bmp", TestImages.Bmp()), ("gif", TestImages.Gif()), ("jpg", TestImages.Jpeg()) })
            for (int cut = 1; cut < bytes.Length; cut += Math.Max(1, bytes.Length / 60))
                Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(bytes[..cut], $"cut.{name}"));
        var tga = Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(TestImages.Tga(), "a.tga"));
        Assert.Contains("not a supported image", tga.Message);
        Assert.Throws<ImageFormatException>(() => ImageLoader.Decode("8BPS\0\u0001"u8.ToArray(), "a.psd"));
        Assert.Throws<ImageFormatException>(() => ImageLoader.Decode("#?RADIANCE\n"u8.ToArray(), "a.hdr"));
    }

    /// <summary>Item 8: error texts carried raw bytes (NULs) from the file.</summary>
    [Fact]
    public void ErrorTextsHaveNoControlCharacters()
    {
        Assert.Equal("IHDR\\x00\\x01", ImageLoader.Printable("IHDR\0\u0001"));
        var png = TestImages.Png();
        png[^9] ^= 0xFF; // damage the IEND chunk type
        var e = Assert.ThrowsAny<Exception>(() => ImageLoader.Decode(png, "x.png"));
        Assert.DoesNotContain(e.Message, char.IsControl);
    }

    private static int FindMarker(byte[] jpeg, byte marker)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker) return i;
        throw new InvalidOperationException($"marker {marker:X2} not found");
    }
}

/// <summary>Items 3 and 8 for the .npy reader: every header field bounded, the file named in every message.</summary>
public class HostileNpyTests
{
    private static byte[] Npy(string header, int dataBytes, int major = 1)
    {
        var text = header.PadRight(header.Length + 16) + "\n";
        var b = new List<byte> { 0x93 };
        b.AddRange("NUMPY"u8.ToArray());
        b.Add((byte)major); b.Add(0);
        if (major == 1) b.AddRange(BitConverter.GetBytes((ushort)text.Length));
        else b.AddRange(BitConverter.GetBytes((uint)text.Length));
        b.AddRange(System.Text.Encoding.ASCII.GetBytes(text));
        b.AddRange(new byte[dataBytes]);
        return b.ToArray();
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", "below 1")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", "below 1")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000, 3), }", "over the limit")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 3), }", "integer dimension")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", "string, True, False or a (tuple)")]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", "not supported")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", "Fortran")]
    [InlineData("{'descr': '<f4', 'shape': (2, 3), }", "fortran_order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } trailing", "after the dict")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "0-dimensional")]
    public void BadHeadersAreFormatErrorsNamingTheFile(string header, string expected)
    {
        var path = Path.Combine(TempDir(), "bad.npy");
        File.WriteAllBytes(path, Npy(header, 24));
        var e = Assert.Throws<FormatException>(() => NativeIg.InceptionV1.Npy.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AVersionTwoHeaderLengthPastTheEndIsRefused()
    {
        var bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24, major: 2);
        BitConverter.GetBytes(0xFFFFFFF0u).CopyTo(bytes, 8);
        var path = Path.Combine(TempDir(), "v2.npy");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<FormatException>(() => NativeIg.InceptionV1.Npy.Read(path));
        Assert.Contains("runs past the end", e.Message);
    }

    [Fact]
    public void DataOfTheWrongLengthIsRefusedAndAGoodFileReads()
    {
        var dir = TempDir();
        var good = Path.Combine(dir, "good.npy");
        File.WriteAllBytes(good, Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24));
        using (var t = NativeIg.InceptionV1.Npy.Read(good)) Assert.Equal([2, 3], t.Shape.ToArray());
        var shortFile = Path.Combine(dir, "short.npy");
        File.WriteAllBytes(shortFile, Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20));
        Assert.Contains("needs 24 data bytes", Assert.Throws<FormatException>(() => NativeIg.InceptionV1.Npy.Read(shortFile)).Message);
    }

    [Fact]
    public void ANonFiniteNpyImageIsRefused()
    {
        var path = Path.Combine(TempDir(), "nan.npy");
        var bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3), }", 48);
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, bytes.Length - 4);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ImageFormatException>(() => ImageLoader.Load(path));
        Assert.Contains("finite", e.Message);
    }
}

/// <summary>Item 3 and 4 for the caffemodel reader and the weights.</summary>
public class HostileWeightsTests
{
    /// <summary>Item 3: a 14-byte caffemodel with a legacy blob dimension ≥ 2³¹ crashed with OverflowException.</summary>
    [Fact]
    public void ALegacyDimensionOfTwoToTheThirtyFirstIsAFormatError()
    {
        byte[] file = [0xa2, 0x06, 0x0b, 0x0a, 0x01, 0x78, 0x3a, 0x06, 0x08, 0x80, 0x80, 0x80, 0x80, 0x08];
        var e = Assert.Throws<WeightsFormatException>(() => CaffeModelReader.Read(file, "tiny.caffemodel"));
        Assert.Contains("tiny.caffemodel", e.Message);
        Assert.Contains("out of range", e.Message);
    }

    /// <summary>Item 3: `--weights /dev/zero` ran out of memory.</summary>
    [Fact]
    public void ADeviceIsNotReadForever()
    {
        if (!File.Exists("/dev/zero")) return; // Linux and macOS only; elsewhere there is no such device to read
        var e = Assert.Throws<WeightsFormatException>(() => WeightsLoader.Load("/dev/zero"));
        Assert.Contains("not a regular file", e.Message);
    }

    /// <summary>Item 4: weights holding NaN classified as "tench: NaN%".</summary>
    [Fact]
    public void NonFiniteWeightsAreRefusedNamingTheLayer()
    {
        var layers = CaffeModelReader.ReadFile(Shared("weights/bvlc_googlenet.caffemodel"));
        var target = layers.First(l => l.Name == "inception_4c/3x3");
        target.Blobs[0].Data[123] = float.PositiveInfinity;
        var e = Assert.Throws<WeightsFormatException>(() => WeightsLoader.FromLayers(layers, "nan.caffemodel"));
        Assert.Contains("inception_4c/3x3", e.Message);
        Assert.Contains("finite", e.Message);
    }

    [Fact]
    public void TwoLayersWithOneNameAreRefused()
    {
        var layers = CaffeModelReader.ReadFile(Shared("weights/bvlc_googlenet.caffemodel")).ToList();
        layers.Add(layers.First(l => l.Name == "conv1/7x7_s2"));
        var e = Assert.Throws<WeightsFormatException>(() => WeightsLoader.FromLayers(layers, "dup.caffemodel"));
        Assert.Contains("two layers are named 'conv1/7x7_s2'", e.Message);
    }
}

/// <summary>Items 3, 4, 6 and 8 on the command line: every argument checked, with bounds, before any work.</summary>
[Collection("model")]
public class HostileCommandLineTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => RunCli(args);

    private static string Missing => Path.Combine(TempDir(), "no-such.caffemodel");

    [Theory]
    [InlineData("--steps", "2147483647")]
    [InlineData("--steps", "99999999999")]
    [InlineData("--batch", "2147483647")]
    [InlineData("--batch", "0")]
    [InlineData("--max-steps", "2000000")]
    [InlineData("--baseline", "blur:1e9")]
    [InlineData("--baseline", "blur:100000")]
    [InlineData("--baseline", "blur:NaN")]
    [InlineData("--baseline", "noise:abc")]
    [InlineData("--clip", "NaN")]
    [InlineData("--clip", "Infinity")]
    [InlineData("--auto-steps", "NaN")]
    [InlineData("--threads", "100000")]
    [InlineData("--out", "")]
    public void ExplodingOrNonsenseValuesAreUsageErrorsBeforeAnyFileIsRead(string option, string value)
    {
        // The weights path does not exist: a usage error must come before anything looks for it.
        var clock = Stopwatch.StartNew();
        var (code, _, error) = Run("explain", Shared("images/fireboat.jpg"), option, value, "--weights", Missing);
        Assert.Equal(2, code);
        Assert.Contains(option, error.Replace("Baseline", "--baseline"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{option} {value} took {clock.Elapsed}");
    }

    /// <summary>Item 6: a bad --target failed only after the model had loaded.</summary>
    [Fact]
    public void ABadTargetFailsBeforeTheModelLoads()
    {
        var (code, _, error) = Run("explain", Shared("images/fireboat.jpg"), "--target", "not-a-class", "--weights", Missing, "--labels", Shared("labels/synset_words.txt"));
        Assert.Equal(2, code);
        Assert.Contains("not-a-class", error);
    }

    /// <summary>Item 6: an --out that is a file, or read-only, failed only after the whole IG.</summary>
    [Fact]
    public void AnUnwritableOutputFolderFailsBeforeTheModelLoads()
    {
        var file = Path.Combine(TempDir(), "a-file");
        File.WriteAllText(file, "x");
        var (code, _, error) = Run("explain", Shared("images/fireboat.jpg"), "--out", file, "--weights", Missing, "--labels", Shared("labels/synset_words.txt"));
        Assert.Equal(1, code);
        Assert.Contains("is a file", error);
        if (Environment.UserName != "root") // root writes anywhere: the read-only case needs an ordinary user
        {
            var readOnly = TempDir();
            File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            (code, _, error) = Run("explain", Shared("images/fireboat.jpg"), "--out", Path.Combine(readOnly, "out"), "--weights", Missing, "--labels", Shared("labels/synset_words.txt"));
            Assert.Equal(1, code);
            Assert.Contains("cannot write", error);
        }
    }

    /// <summary>Items 3 and 8: `--weights /dev/zero` ran out of memory; `--labels /dev/zero` gave an internal message.</summary>
    [Fact]
    public void DevicesAsInputFilesAreClearFileErrors()
    {
        if (!File.Exists("/dev/zero")) return; // no such device on this OS
        var (code, _, error) = Run("classify", Shared("images/fireboat.jpg"), "--weights", "/dev/zero", "--labels", Shared("labels/synset_words.txt"));
        Assert.Equal(1, code);
        Assert.Contains("/dev/zero: not a regular file", error);
        (code, _, error) = Run("classify", Shared("images/fireboat.jpg"), "--labels", "/dev/zero", "--weights", Shared("weights/bvlc_googlenet.caffemodel"));
        Assert.Equal(1, code);
        Assert.Contains("/dev/zero: not a regular file", error);
    }

    /// <summary>Item 3: bad .npy headers crashed classify and stopped the images after them.</summary>
    [Fact]
    public void ABadNpyDoesNotStopTheOtherImages()
    {
        var bad = Path.Combine(TempDir(), "bad.npy");
        File.WriteAllBytes(bad, [0x93, .. "NUMPY"u8.ToArray(), 1, 0, 20, 0, .. "{'shape': [1, 2], }  \n"u8.ToArray()]);
        var (code, output, error) = Run("classify", bad, Shared("images/fireboat.jpg"), "--weights", Shared("weights/bvlc_googlenet.caffemodel"), "--labels", Shared("labels/synset_words.txt"));
        Assert.Equal(1, code);
        Assert.Contains("bad.npy", error);
        Assert.Contains("fireboat", output);
    }

    /// <summary>Item 5: an interrupted run left 0-byte PNGs; now it exits 130 and leaves the previous outputs as they were.</summary>
    [Fact]
    public void ACancelledExplainExits130AndLeavesThePreviousOutputs()
    {
        var outDir = TempDir();
        var previous = Path.Combine(outDir, "figure.png");
        File.WriteAllText(previous, "previous run");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var stdout = new StringWriter(); var stderr = new StringWriter();
        int code = Program.Run(["explain", Shared("images/fireboat.jpg"), "--out", outDir, "--steps", "4",
            "--weights", Shared("weights/bvlc_googlenet.caffemodel"), "--labels", Shared("labels/synset_words.txt")], stdout, stderr, cancelled.Token);
        Assert.Equal(130, code);
        Assert.Contains("interrupted", stderr.ToString());
        Assert.Equal("previous run", File.ReadAllText(previous));
        Assert.Equal(["figure.png"], Directory.GetFiles(outDir).Select(f => Path.GetFileName(f)).ToArray());
    }
}

/// <summary>Item 4 in the library: a batch of int.MaxValue overflowed the chunk count and returned all-zero attributions.</summary>
public class HostileLibraryArgumentTests
{
    [Fact]
    public void HugeBatchesAndStepsAreRefusedAndTheChunksCoverThePathExactly()
    {
        var ig = new IntegratedGradients(FunctionModel.Linear([1f, 2f]));
        using var x = FunctionModel.Image(1f, 1f);
        using var baseline = FunctionModel.Image(0f, 0f);
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(x, baseline, 0, 50, batchSize: int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(x, baseline, 0, int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.AutoSteps(x, baseline, 0, double.NaN));
        using var r = ig.Attribute(x, baseline, 0, 50, batchSize: IntegratedGradients.MaxBatchSize, output: TargetOutput.Logit);
        Assert.Equal(3.0, r.Sum, 5); // not zero: every path image was used
        foreach (int total in new[] { 1, 7, 31, 32, 33, 51, 241, 1001, 5001 })
            foreach (int batch in new[] { 1, 2, 8, 32 })
            {
                var chunks = IntegratedGradients.Chunks(total, batch).ToList();
                Assert.Equal(Enumerable.Range(0, total), chunks.SelectMany(c => Enumerable.Range(c.Start, c.Count)));
                Assert.All(chunks, c => Assert.InRange(c.Count, Math.Min(total, (batch + 1) / 2), batch));
            }
    }
}

/// <summary>Item 5 with a real signal: SIGTERM to a running `nativeig explain` (what schedulers send).</summary>
[Collection("model")]
public class SignalTests
{
    [Fact]
    public void SigtermDuringExplainExits143AndLeavesThePreviousOutputs()
    {
        if (OperatingSystem.IsWindows()) return; // no SIGTERM to send there
        var outDir = TempDir();
        var previous = Path.Combine(outDir, "mask.png");
        File.WriteAllText(previous, "previous run");
        var cli = Path.Combine(AppContext.BaseDirectory, "nativeig.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { cli, "explain", Shared("images/fireboat.jpg"), "--steps", "2000", "--out", outDir,
            "--weights", Shared("weights/bvlc_googlenet.caffemodel"), "--labels", Shared("labels/synset_words.txt") })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        Thread.Sleep(TimeSpan.FromSeconds(4)); // past the model load, inside the path
        if (process.HasExited) Assert.Fail($"explain ended before the signal: {error.Result}");
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill!.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "explain did not stop within 30 s of SIGTERM");
        Assert.Equal(143, process.ExitCode);
        Assert.Contains("interrupted", error.Result);
        Assert.Equal("previous run", File.ReadAllText(previous));
        Assert.Equal(["mask.png"], Directory.GetFiles(outDir).Select(f => Path.GetFileName(f)).ToArray());
    }
}

/// <summary>Item 5: outputs are written to temporary names and renamed together.</summary>
public class AtomicOutputTests
{
    [Fact]
    public void AnUncommittedSetLeavesTheOldFilesAndNoTemporaries()
    {
        var dir = TempDir();
        var a = Path.Combine(dir, "a.png");
        File.WriteAllText(a, "old a");
        using (var files = new AtomicFiles())
        {
            files.Write(a, s => s.Write("new a"u8));
            files.Write(Path.Combine(dir, "b.npy"), s => s.Write("new b"u8));
            Assert.Equal("old a", File.ReadAllText(a)); // nothing visible before the commit
        }
        Assert.Equal("old a", File.ReadAllText(a));
        Assert.Equal(["a.png"], Directory.GetFiles(dir).Select(f => Path.GetFileName(f)).ToArray());
    }

    [Fact]
    public void AWriteThatThrowsLeavesTheOldFileWhole()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "x.npy");
        NativeIg.InceptionV1.Npy.Write(path, [1f, 2f], [2]);
        var before = File.ReadAllBytes(path);
        Assert.Throws<InvalidOperationException>(() => AtomicFiles.WriteOne(path, s => { s.Write(new byte[100]); throw new InvalidOperationException("interrupted"); }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void CommittedFilesReplaceTheOldOnes()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "x.npy");
        NativeIg.InceptionV1.Npy.Write(path, [1f, 2f], [2]);
        NativeIg.InceptionV1.Npy.Write(path, [3f, 4f, 5f], [3]);
        using var t = NativeIg.InceptionV1.Npy.Read(path);
        Assert.Equal([3f, 4f, 5f], t.ToArray());
        Assert.Single(Directory.GetFiles(dir));
    }
}

/// <summary>The first run needs nothing private: the built-in example image is embedded and classifies as what it shows.</summary>
[Collection("model")]
public class BuiltInExampleTests(ModelFixture fixture)
{
    [Fact]
    public void TheBuiltInExampleIsAGiantPanda()
    {
        using var image = NativeIg.Cli.Explain.BuiltInExample();
        Assert.Equal([224, 224, 3], image.Shape.ToArray());
        using var batch = image.Reshape(1, 224, 224, 3);
        using var p = fixture.Model.PredictProbabilities(batch);
        Assert.Equal(388, GoogLeNet.TopK(p.Span, 1)[0].Index); // giant panda
    }
}

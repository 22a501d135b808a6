using System.Diagnostics;
using NativeIg.Ig;
using NativeIg.Onnx;
using NativeIg.Tensors.IO;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// Symbolic links, FIFOs, devices and link loops wherever a file or a folder is read: each is followed
/// safely or refused at once with the path named, and nothing blocks (every case runs under a deadline).
/// </summary>
public class HostileFileSystemTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Runs <paramref name="work"/> on a thread of its own (not the pool, which a busy parallel test run can
    /// keep from starting it in time) and fails, rather than hangs, when it blocks.
    /// </summary>
    private static T Within<T>(Func<T> work)
    {
        T result = default!;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try { result = work(); }
            catch (Exception e) { failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e); }
        }) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(Deadline), "blocked: the call did not return within the deadline");
        failure?.Throw();
        return result;
    }

    private static OnnxWriter WithExternalWeights(string location, long length = 48) => new OnnxWriter()
        .Input("x", [1, 3, 8, 8]).Output("y", [1, 4])
        .ExternalInitializer("w", [4, 3, 1, 1], location, length)
        .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 }))
        .Node("GlobalAveragePool", ["c"], ["g"])
        .Node("Flatten", ["g"], ["y"]);

    private static void WriteWeights(string path) => File.WriteAllBytes(path, Random(12, 3).SelectMany(BitConverter.GetBytes).ToArray());

    [Fact]
    public void ExternalDataThroughAFolderLinkOutsideTheModelFolderIsRefused()
    {
        var outside = TempDir();
        WriteWeights(Path.Combine(outside, "secret"));
        var model = Path.Combine(TempDir(), "m");
        Directory.CreateDirectory(model);
        Directory.CreateSymbolicLink(Path.Combine(model, "etcdir"), outside);
        var path = WithExternalWeights("etcdir/secret").Save(model);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(path));
        Assert.Contains("outside the model's folder", e.Message);
        Assert.Contains("etcdir/secret", e.Message);
    }

    [Fact]
    public void ExternalDataThroughAFileLinkOutsideTheModelFolderIsRefused()
    {
        var outside = TempDir();
        WriteWeights(Path.Combine(outside, "secret"));
        var model = TempDir();
        File.CreateSymbolicLink(Path.Combine(model, "w.bin"), Path.Combine(outside, "secret"));
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(WithExternalWeights("w.bin").Save(model)));
        Assert.Contains("outside the model's folder", e.Message);
    }

    [Fact]
    public void ExternalDataThroughALinkThatStaysInsideTheFolderLoads()
    {
        var model = TempDir();
        Directory.CreateDirectory(Path.Combine(model, "data"));
        WriteWeights(Path.Combine(model, "data", "w.bin"));
        File.CreateSymbolicLink(Path.Combine(model, "w.bin"), Path.Combine("data", "w.bin"));
        Assert.Equal(4, OnnxModel.Load(WithExternalWeights("w.bin").Save(model), new OnnxPreprocessing { Height = 8, Width = 8 }).Classes);
    }

    [Fact]
    public void ExternalDataLengthIsComparedWithTheTensorBeforeAnythingIsRead()
    {
        var model = TempDir();
        WriteWeights(Path.Combine(model, "w.bin"));
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(WithExternalWeights("w.bin", length: 2L << 30).Save(model)));
        Assert.Contains("48 bytes expected", e.Message);
    }

    [Fact]
    public void ExternalDataNamingAFifoIsRefusedWithoutBlocking()
    {
        var model = TempDir();
        MakeFifo(Path.Combine(model, "w.bin"));
        var e = Within(() => Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(WithExternalWeights("w.bin").Save(model))));
        Assert.Contains("not a regular file", e.Message);
    }

    [Fact]
    public void AFifoImageIsRefusedAtOnceAndTheOtherImagesAreClassified()
    {
        var dir = TempDir();
        var fifo = Path.Combine(dir, "f.jpg");
        MakeFifo(fifo);
        var e = Within(() => Assert.Throws<ImageFormatException>(() => ImageLoader.Load(fifo)));
        Assert.Contains("not a regular file", e.Message);
        Assert.Contains(fifo, e.Message);
        var (code, _, err) = Within(() => RunCli("model", fifo));
        Assert.Equal(1, code);
        Assert.Contains("not a regular file", err);
    }

    [Fact]
    public void AFifoModelSidecarNpyAndResponseFileAreRefusedWithoutBlocking()
    {
        var dir = TempDir();
        foreach (var name in new[] { "m.onnx", "mean.npy", "args.txt" }) MakeFifo(Path.Combine(dir, name));
        Within(() => Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(Path.Combine(dir, "m.onnx"))));
        Within(() => Assert.Throws<FormatException>(() => Npy.Read(Path.Combine(dir, "mean.npy"))));
        var (code, _, err) = Within(() => RunCli("classify", "@" + Path.Combine(dir, "args.txt")));
        Assert.Equal(2, code);
        Assert.Contains("not a regular file", err);
    }

    [Fact]
    public void ADeviceIsRefusedWithoutReadingIt()
    {
        var e = Within(() => Assert.Throws<ImageFormatException>(() => ImageLoader.Load("/dev/zero")));
        Assert.Contains("/dev/zero", e.Message);
        var link = Path.Combine(TempDir(), "zero.jpg");
        File.CreateSymbolicLink(link, "/dev/zero");
        Within(() => Assert.Throws<ImageFormatException>(() => ImageLoader.Load(link)));
    }

    [Fact]
    public void SymlinkedFilesAreReadBySizeOfTheirTarget()
    {
        var dir = TempDir();
        var png = Path.Combine(dir, "real.png");
        File.WriteAllBytes(png, TestImages.Png(20, 10));
        // A relative link, a link to a link, and a link into another folder: all read the target's bytes.
        File.CreateSymbolicLink(Path.Combine(dir, "a.png"), "real.png");
        File.CreateSymbolicLink(Path.Combine(dir, "b.png"), Path.Combine(dir, "a.png"));
        var other = TempDir();
        File.CreateSymbolicLink(Path.Combine(other, "c.png"), png);
        using var expected = ImageLoader.Load(png);
        foreach (var link in new[] { "a.png", "b.png" }.Select(n => Path.Combine(dir, n)).Append(Path.Combine(other, "c.png")))
        {
            using var image = ImageLoader.Load(link);
            Assert.Equal(expected.ToArray(), image.ToArray());
        }
        var dangling = Path.Combine(dir, "gone.png");
        File.CreateSymbolicLink(dangling, Path.Combine(dir, "missing.png"));
        var e = Assert.ThrowsAny<Exception>(() => ImageLoader.Load(dangling));
        Assert.True(e is FileNotFoundException or ImageFormatException, e.GetType().Name);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void ALinkLoopInAnInputFolderIsListedOnceAndNamed()
    {
        var root = TempDir();
        var folder = Path.Combine(root, "L");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        File.WriteAllBytes(Path.Combine(folder, "a.png"), TestImages.Png());
        File.WriteAllBytes(Path.Combine(folder, "sub", "b.png"), TestImages.Png(seed: 2));
        Directory.CreateSymbolicLink(Path.Combine(folder, "loop"), ".");
        Directory.CreateSymbolicLink(Path.Combine(folder, "up"), "..");
        Directory.CreateSymbolicLink(Path.Combine(folder, "sub", "self"), ".");
        var notes = new List<string>();
        var inputs = Within(() => ImageInputs.Expand([folder], outputFolder: null, notes.Add));
        Assert.Equal(["L/a.png", "L/sub/b.png"], inputs.Select(i => i.Name).ToArray());
        Assert.Contains(notes, n => n.Contains("loop") && n.Contains("already listed"));
        Assert.Contains(notes, n => n.Contains("self") && n.Contains("already listed"));
        // `up` leads to the parent, which holds L: L is not listed twice, the parent's other files are taken once.
        Assert.Equal(inputs.Count, inputs.Select(i => Path.GetFullPath(i.Path)).Select(RealPath.Resolve).Distinct().Count());
    }

    [Fact]
    public void HiddenAndUnreadableEntriesOfAFolderAreNamedNotDropped()
    {
        var folder = TempDir();
        File.WriteAllBytes(Path.Combine(folder, "a.png"), TestImages.Png());
        File.WriteAllBytes(Path.Combine(folder, ".hidden.png"), TestImages.Png());
        var notes = new List<string>();
        var inputs = ImageInputs.Expand([folder], null, notes.Add);
        Assert.Single(inputs);
        Assert.Contains(notes, n => n.Contains(".hidden.png") && n.Contains("hidden"));
    }

    [Fact]
    public void AnOutputFolderInsideTheInputFolderIsNeverAnInput()
    {
        var folder = TempDir();
        File.WriteAllBytes(Path.Combine(folder, "a.png"), TestImages.Png());
        var outputs = Path.Combine(folder, "ig");
        Directory.CreateDirectory(Path.Combine(outputs, "a"));
        File.WriteAllBytes(Path.Combine(outputs, "a", "figure.png"), TestImages.Png());
        var notes = new List<string>();
        var inputs = ImageInputs.Expand([folder], outputs, notes.Add);
        Assert.Single(inputs);
        Assert.Contains(notes, n => n.Contains("output folder"));
        // Also through a link to it, and for a glob.
        Assert.Single(ImageInputs.Expand([Path.Combine(folder, "*.png")], outputs, null));
    }

    [Fact]
    public void OneImageAndAFolderNameTheirOutputFoldersByOneRule()
    {
        Assert.Equal("fireboat", ImageInputs.FolderName("fireboat.jpg"));
        Assert.Equal("photos/boats/a", ImageInputs.FolderName("photos/boats/a.png"));
        Assert.Equal(".npy", ImageInputs.FolderName(".npy"));
        var folder = Path.Combine(TempDir(), "photos");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "a.png"), TestImages.Png());
        File.WriteAllBytes(Path.Combine(folder, "a.jpg"), TestImages.Jpeg());
        var e = Assert.Throws<ArgumentException>(() => ImageInputs.Expand([folder]));
        Assert.Contains("'photos/a/'", e.Message.Replace(Path.GetDirectoryName(folder)! + "/", ""));
    }

    [Fact]
    public void AStaleTemporaryFileOfAKilledWriterIsRemovedOnTheNextWrite()
    {
        var dir = TempDir();
        // PID 2^22 + 1 is above Linux's pid_max limit, so no process can have it.
        var stale = Path.Combine(dir, $".figure.png.{(1 << 22) + 1}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(stale, "half");
        var live = Path.Combine(dir, $".figure.png.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(live, "another writer of this process");
        AtomicFiles.WriteOne(Path.Combine(dir, "figure.png"), s => s.WriteByte(1));
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(Path.Combine(dir, "figure.png")));
    }

    [Fact]
    public void RealPathResolvesEveryComponentAndStopsOnALoop()
    {
        var dir = TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "real"));
        Directory.CreateSymbolicLink(Path.Combine(dir, "link"), "real");
        Assert.Equal(Path.Combine(RealPath.Resolve(dir), "real", "x"), RealPath.Resolve(Path.Combine(dir, "link", "x")));
        Assert.Equal(RealPath.Resolve(dir), RealPath.Resolve(Path.Combine(dir, "link", "..")));
        File.CreateSymbolicLink(Path.Combine(dir, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(dir, "b"), "a");
        Assert.Throws<IOException>(() => RealPath.Resolve(Path.Combine(dir, "a")));
        Assert.False(RealPath.IsInside(Path.Combine(dir, "link", "..", "..", "etc"), dir));
        Assert.True(RealPath.IsInside(Path.Combine(dir, "link", "x"), dir));
    }

    [Fact]
    public void MergeOfARunFolderWithALinkLoopAndAFifoResultEnds()
    {
        var run = TempDir();
        Directory.CreateDirectory(Path.Combine(run, "a"));
        MakeFifo(Path.Combine(run, "a", "result.json"));
        Directory.CreateSymbolicLink(Path.Combine(run, "loop"), ".");
        var (code, _, error) = Within(() => RunCli("merge", run));
        Assert.Equal(1, code);
        Assert.Contains("not a regular file", error);
        Assert.Contains(Path.Combine(run, "a", "result.json"), error);
    }

    [Fact]
    public void AFifoNamedSha256SumsBesideTheWeightsDoesNotBlock()
    {
        var dir = TempDir();
        var weights = Path.Combine(dir, "w.caffemodel");
        File.WriteAllBytes(weights, [1, 2, 3]);
        MakeFifo(Path.Combine(dir, "SHA256SUMS"));
        Within(() => Assert.Throws<NativeIg.InceptionV1.WeightsFormatException>(() => NativeIg.InceptionV1.WeightsLoader.ListedSha256(weights)));
    }
}

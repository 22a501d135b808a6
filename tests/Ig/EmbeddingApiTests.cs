using NativeIg.InceptionV1;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>The library as an app embeds it: streams and bytes instead of paths, built-in labels, disposal.</summary>
[Collection("model")]
public class EmbeddingApiTests(ModelFixture fixture)
{
    [SharedFact]
    public void BuiltInLabelsAreTheSynsetFile()
    {
        var builtIn = ImageNetLabels.BuiltIn;
        var file = ImageNetLabels.Load(Shared("labels/synset_words.txt"));
        Assert.Equal(1000, builtIn.Count);
        for (int i = 0; i < file.Count; i++) Assert.Equal(file[i], builtIn[i]);
        Assert.Equal("fireboat", builtIn[554]);
        Assert.Equal("giant panda", builtIn[388]);
    }

    [SharedFact]
    public void WeightsFromAStreamOrBytesGiveTheSameModel()
    {
        var path = Shared("weights/bvlc_googlenet.caffemodel");
        using var fireboat = ImageLoader.LoadForModel(File.OpenRead(Shared("images/fireboat.jpg")), "fireboat.jpg");
        using var batch = fireboat.Reshape(1, 224, 224, 3);
        using var expected = fixture.Model.PredictProbabilities(batch);
        using (var stream = File.OpenRead(path))
        using (var fromStream = GoogLeNet.Load(stream))
        using (var p = fromStream.PredictProbabilities(batch, threads: 1))
            Assert.Equal(expected.ToArray(), p.ToArray());
        var bytes = File.ReadAllBytes(path);
        var fromBytes = GoogLeNet.Load(bytes);
        using (var p = fromBytes.PredictProbabilities(batch))
            Assert.Equal(expected.ToArray(), p.ToArray());

        fromBytes.Dispose();
        fromBytes.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => fromBytes.PredictProbabilities(batch));

        bytes[bytes.Length / 2] ^= 1; // one flipped bit: the checksum refuses it, and says how to load other weights
        var e = Assert.Throws<WeightsFormatException>(() => GoogLeNet.Load(bytes));
        Assert.Contains("SHA-256 mismatch", e.Message);
        Assert.Contains("verifyChecksum", e.Message);
        Assert.DoesNotContain("--", e.Message);
    }

    [SharedFact]
    public void StreamsAreReadWithALimit()
    {
        var e = Assert.Throws<FormatException>(() => BoundedFile.ReadAll(new EndlessStream(), 1 << 20, "endless", m => new FormatException(m)));
        Assert.Contains("endless", e.Message);
        Assert.Contains("1,048,576", e.Message);
        var bad = Assert.Throws<ImageFormatException>(() => ImageLoader.Load(new MemoryStream([0xFF, 0xD8, 0xFF]), "upload #7"));
        Assert.StartsWith("upload #7:", bad.Message);
        Assert.Throws<FormatException>(() => ImageNetLabels.Load(new MemoryStream("a\nb\n"u8.ToArray()), "two lines"));
    }

    [SharedFact]
    public void OnnxModelsLoadFromBytesAndStreamsAndDispose()
    {
        var bytes = new OnnxWriter()
            .Input("x", [1, 3, 8, 8]).Output("y", [1, 5])
            .Initializer("w", [4, 3, 3, 3], Enumerable.Range(0, 108).Select(i => (i % 7 - 3) * 0.1f).ToArray())
            .Initializer("fc", [5, 4], Enumerable.Range(0, 20).Select(i => (i % 5 - 2) * 0.2f).ToArray())
            .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("GlobalAveragePool", ["c"], ["g"])
            .Node("Flatten", ["g"], ["f"])
            .Node("Gemm", ["f", "fc"], ["y"], ("transB", 1L))
            .ToArray();
        var preprocessing = new NativeIg.Onnx.OnnxPreprocessing { Height = 8, Width = 8 };
        using var images = RandomTensor(5, 2, 8, 8, 3);
        using var fromBytes = NativeIg.Onnx.OnnxModel.Load(bytes, "tiny.onnx", preprocessing);
        using var fromStream = NativeIg.Onnx.OnnxModel.Load(new MemoryStream(bytes), "tiny.onnx", preprocessing);
        using var a = fromBytes.PredictOutputs(images);
        using var b = fromStream.PredictOutputs(images, threads: 1);
        Assert.Equal([2, 5], a.Shape.ToArray());
        Assert.Equal(a.ToArray(), b.ToArray());
        fromBytes.Dispose();
        Assert.Throws<ObjectDisposedException>(() => fromBytes.PredictOutputs(images));
        var broken = Assert.Throws<NativeIg.Onnx.OnnxFormatException>(() => NativeIg.Onnx.OnnxModel.Load(bytes[..(bytes.Length / 2)], "half.onnx"));
        Assert.StartsWith("half.onnx", broken.Message);
    }

    [SharedFact]
    public void LibraryMessagesNameNoCommandLineFlag()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => WeightsResolver.Resolve("/nonexistent/w.caffemodel"));
        Assert.DoesNotContain("--", missing.Message);
        Assert.Contains("/nonexistent/w.caffemodel", missing.Message);
        Assert.DoesNotContain("--", WeightsResolver.HowToGetWeights);
    }

    /// <summary>A stream that never ends (like /dev/zero).</summary>
    private sealed class EndlessStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) { Array.Clear(buffer, offset, count); return count; }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

using NativeIg.InceptionV1;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Loads the real weights once for every test class that needs them.</summary>
public sealed class ModelFixture
{
    private readonly Lazy<GoogLeNet> _model = new(() => GoogLeNet.Load(Shared("weights/bvlc_googlenet.caffemodel")));
    private readonly Lazy<ImageNetLabels> _labels = new(() => ImageNetLabels.Load(Shared("labels/synset_words.txt")));

    public GoogLeNet Model => _model.Value;
    public ImageNetLabels Labels => _labels.Value;
}

[CollectionDefinition("model")]
public class ModelCollection : ICollectionFixture<ModelFixture>;

[Collection("model")]
public class ReferenceProbabilityTests(ModelFixture fixture)
{
    /// <summary>
    /// The golden probabilities come from a float64 libtorch run; three float32 engines agree with them to
    /// 8e-6, so a float32 engine must be within 1e-5 on all 1000 classes (reference/README.md).
    /// </summary>
    [Theory]
    [InlineData("fireboat", 554)]
    [InlineData("giant_panda", 388)]
    [InlineData("city", 819)]
    public void ReferenceInputsGiveReferenceProbabilities(string name, int top)
    {
        using var probabilities = AssertReferenceProbabilities(fixture.Model, name, "on the CPU");
        Assert.Equal(top, GoogLeNet.TopK(probabilities.Span, 1)[0].Index);
    }

    /// <summary>The model's probabilities for a golden input, checked within 1e-5 of the golden ones (reference/README.md).</summary>
    internal static Tensor AssertReferenceProbabilities(GoogLeNet model, string name, string where)
    {
        using var input = Npy.Read(Shared($"reference/{name}_input.npy"));
        using var expected = Npy.Read(Shared($"reference/{name}_probs.npy"));
        using var batch = input.Reshape(1, 224, 224, 3);
        var probabilities = model.PredictProbabilities(batch);
        AssertClose(expected.Span, probabilities.Span, 1e-5, 0, $"{name} probabilities {where}");
        return probabilities;
    }

    [Theory]
    [InlineData("fireboat")]
    [InlineData("giant_panda")]
    [InlineData("city")]
    public void JpegThroughOurDecoderAndResizeMatchesTheReferenceInput(string name)
    {
        using var image = ImageLoader.LoadForModel(Shared($"images/{name}.jpg"));
        using var expected = Npy.Read(Shared($"reference/{name}_input.npy"));
        AssertClose(expected.Span, image.Span, 1e-6, 0, $"{name} decoded and resized");
        using var batch = image.Reshape(1, 224, 224, 3);
        using var probabilities = fixture.Model.PredictProbabilities(batch);
        using var expectedProbabilities = Npy.Read(Shared($"reference/{name}_probs.npy"));
        AssertClose(expectedProbabilities.Span, probabilities.Span, 1e-5, 0, $"{name} probabilities from the JPEG");
    }

    [Fact]
    public void BatchesGiveTheSameAnswerAsSingleImages()
    {
        using var a = Npy.Read(Shared("reference/fireboat_input.npy"));
        using var b = Npy.Read(Shared("reference/city_input.npy"));
        using var batch = Tensor.Uninitialized(3, 224, 224, 3);
        a.Span.CopyTo(batch.Span);
        b.Span.CopyTo(batch.Span[a.Length..]);
        a.Span.CopyTo(batch.Span[(2 * a.Length)..]);
        using var p = fixture.Model.PredictProbabilities(batch);
        using var single = fixture.Model.PredictProbabilities(b.Reshape(1, 224, 224, 3));
        AssertClose(single.Span, p.Span.Slice(1000, 1000), 1e-6, 0, "batch row vs single image");
    }

    [Fact]
    public void ModelHasTheExpectedParametersAndRejectsWrongInputShapes()
    {
        Assert.Equal(6_998_552, fixture.Model.ParameterCount);
        Assert.Equal(58, GoogLeNet.ParameterLayers.Count);
        using var wrong = Tensor.Zeros(1, 200, 200, 3);
        var e = Assert.Throws<ArgumentException>(() => fixture.Model.PredictProbabilities(wrong));
        Assert.Contains("[1, 200, 200, 3]", e.Message);
    }

    [Fact]
    public void LabelsReadBothFormatsAndFindNames()
    {
        var synsets = ImageNetLabels.Load(Shared("labels/synset_words.txt"));
        var tensorflow = ImageNetLabels.Load(Shared("labels/ImageNetLabels.txt"));
        Assert.Equal("fireboat", synsets[554]);
        Assert.Equal("giant panda", synsets[388]);
        Assert.Equal(1000, tensorflow.Count);
        Assert.Equal(tensorflow.Find("fireboat"), synsets.Find("FIREBOAT"));
        Assert.Equal(388, synsets.Find("388"));
        Assert.Null(synsets.Find("1000"));
        Assert.Null(synsets.Find("not a label"));
    }
}

/// <summary>Every way a weights file can be bad fails with the file, the layer and what was expected.</summary>
public class WeightsLoaderTests
{
    private static readonly Lazy<byte[]> RealBytes = new(() => File.ReadAllBytes(Shared("weights/bvlc_googlenet.caffemodel")));

    private static string Write(byte[] bytes, string name = "model.caffemodel")
    {
        var path = Path.Combine(TempDir(), name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void TruncatedFileFailsNamingTheFile()
    {
        var path = Write(RealBytes.Value[..(RealBytes.Value.Length / 2)]);
        var e = Assert.Throws<WeightsFormatException>(() => GoogLeNet.Load(path, verifyChecksum: false));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void ChecksumMismatchIsReportedBeforeParsing()
    {
        var bytes = (byte[])RealBytes.Value.Clone();
        bytes[bytes.Length / 2] ^= 0x40;
        var path = Write(bytes, WeightsLoader.FileName);
        var e = Assert.Throws<WeightsFormatException>(() => GoogLeNet.Load(path));
        Assert.Contains("SHA-256 mismatch", e.Message);
        Assert.Contains(WeightsLoader.KnownSha256, e.Message);
    }

    [Fact]
    public void ChecksumsFileBesideTheWeightsIsUsed()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "other.caffemodel");
        File.WriteAllBytes(path, [1, 2, 3]);
        File.WriteAllText(Path.Combine(dir, "SHA256SUMS"), $"{new string('0', 64)}  other.caffemodel\n");
        var e = Assert.Throws<WeightsFormatException>(() => GoogLeNet.Load(path));
        Assert.Contains("SHA-256 mismatch", e.Message);
    }

    [Fact]
    public void BadVarintAndOverlongLengthAreCaught()
    {
        // field 100, wire type 2, then a varint of eleven 0xFF bytes
        var badVarint = new byte[] { 0xA2, 0x06 }.Concat(Enumerable.Repeat((byte)0xFF, 11)).ToArray();
        var e = Assert.Throws<WeightsFormatException>(() => CaffeModelReader.Read(badVarint, "bad.caffemodel"));
        Assert.Contains("varint", e.Message);
        Assert.Contains("bad.caffemodel", e.Message);
        var overlong = new byte[] { 0xA2, 0x06, 0x7F, 0x01, 0x02 };
        e = Assert.Throws<WeightsFormatException>(() => CaffeModelReader.Read(overlong, "long.caffemodel"));
        Assert.Contains("runs past the end", e.Message);
        Assert.Throws<WeightsFormatException>(() => CaffeModelReader.Read([], "empty.caffemodel"));
    }

    [Fact]
    public void MissingLayerAndWrongShapeNameTheLayer()
    {
        var layers = CaffeModelReader.Read(RealBytes.Value, "real").ToList();
        var withoutLayer = layers.Where(l => l.Name != "inception_4c/5x5").ToList();
        var e = Assert.Throws<WeightsFormatException>(() => WeightsLoader.FromLayers(withoutLayer, "edited.caffemodel"));
        Assert.Contains("'inception_4c/5x5'", e.Message);
        Assert.Contains("edited.caffemodel", e.Message);

        var reshaped = layers.Select(l => l.Name != "conv2/3x3" ? l :
            l with { Blobs = [new CaffeBlob([192, 64, 9], l.Blobs[0].Data), l.Blobs[1]] }).ToList();
        e = Assert.Throws<WeightsFormatException>(() => WeightsLoader.FromLayers(reshaped, "edited.caffemodel"));
        Assert.Contains("'conv2/3x3'", e.Message);
        Assert.Contains("[192, 64, 3, 3]", e.Message);
    }

    /// <summary>Byte ranges of the top-level layer messages of a NetParameter, with each layer's name.</summary>
    private static List<(int Start, int End, string Name)> TopLevelLayers(byte[] bytes)
    {
        static ulong Varint(byte[] b, ref int p) { ulong v = 0; for (int s = 0; ; s += 7) { byte x = b[p++]; v |= (ulong)(x & 0x7F) << s; if (x < 0x80) return v; } }
        var layers = new List<(int, int, string)>();
        for (int p = 0; p < bytes.Length;)
        {
            int start = p;
            ulong key = Varint(bytes, ref p);
            if ((key & 7) != 2) throw new InvalidOperationException("test helper expects only length-delimited top-level fields");
            int length = (int)Varint(bytes, ref p);
            int content = p;
            p += length;
            // A layer's first field is its name (field 1, length-delimited).
            int q = content;
            string name = "";
            if (bytes[q] == 0x0A) { q++; int n = (int)Varint(bytes, ref q); name = System.Text.Encoding.UTF8.GetString(bytes, q, n); }
            layers.Add((start, p, name));
        }
        return layers;
    }

    [Fact]
    public void FileWithALayerDroppedFailsNamingTheLayer()
    {
        var bytes = RealBytes.Value;
        var layer = TopLevelLayers(bytes).Single(l => l.Name == "inception_4c/5x5");
        var path = Write([.. bytes[..layer.Start], .. bytes[layer.End..]]);
        var e = Assert.Throws<WeightsFormatException>(() => GoogLeNet.Load(path, verifyChecksum: false));
        Assert.Contains(path, e.Message);
        Assert.Contains("'inception_4c/5x5'", e.Message);
    }

    [Fact]
    public void FileWithAChangedShapeFailsNamingTheLayerAndTheShape()
    {
        var bytes = (byte[])RealBytes.Value.Clone();
        var layer = TopLevelLayers(bytes).Single(l => l.Name == "conv2/3x3");
        // The weights blob's packed shape [192, 64, 3, 3]: field 1, 5 bytes, varints C0 01 | 40 | 03 | 03.
        byte[] shape = [0x0A, 0x05, 0xC0, 0x01, 0x40, 0x03, 0x03];
        int at = bytes.AsSpan(layer.Start, layer.End - layer.Start).IndexOf(shape);
        Assert.True(at >= 0, "conv2/3x3's shape bytes were not found");
        bytes[layer.Start + at + shape.Length - 1] = 0x02; // [192, 64, 3, 2]
        var path = Write(bytes);
        var e = Assert.Throws<WeightsFormatException>(() => GoogLeNet.Load(path, verifyChecksum: false));
        Assert.Contains(path, e.Message);
        Assert.Contains("'conv2/3x3'", e.Message);
        Assert.Contains("[192, 64, 3, 2]", e.Message);
    }

    [Fact]
    public void ReaderSkipsUnknownFieldsAndAuxiliaryLayersAndReadsLegacyBlobs()
    {
        // A hand-built NetParameter: an unknown varint field, a legacy V1 layer with num/channels/height/width
        // and unpacked floats, then a modern layer with a packed shape and packed data.
        var w = new ProtoWriter();
        w.Varint(7, 42);
        w.Message(2, l =>
        {
            l.String(4, "legacy");
            l.Varint(5, 4);
            l.Message(6, b => { b.Varint(1, 1); b.Varint(2, 1); b.Varint(3, 1); b.Varint(4, 2); b.Fixed32(5, 1.5f); b.Fixed32(5, -2f); });
        });
        w.Message(100, l =>
        {
            l.String(1, "loss1/classifier");
            l.String(2, "InnerProduct");
            l.Message(7, b => { b.Message(7, s => s.Packed(1, [2, 3])); b.PackedFloats(5, [1, 2, 3, 4, 5, 6]); });
        });
        var layers = CaffeModelReader.Read(w.ToArray(), "handmade");
        Assert.Equal(2, layers.Count);
        Assert.Equal("legacy", layers[0].Name);
        Assert.Equal([1, 1, 1, 2], layers[0].Blobs[0].Shape);
        Assert.Equal([1.5f, -2f], layers[0].Blobs[0].Data);
        Assert.Equal([2, 3], layers[1].Blobs[0].Shape);
        Assert.Equal(6f, layers[1].Blobs[0].Data[5]);
    }

    [Fact]
    public void ResolverPrefersExplicitThenEnvironmentAndExplainsWhatToDo()
    {
        var e = Assert.Throws<FileNotFoundException>(() => WeightsResolver.Resolve("/nonexistent/x.caffemodel"));
        Assert.Contains("/nonexistent/x.caffemodel", e.Message);
        var explicitPath = Shared("weights/bvlc_googlenet.caffemodel");
        Assert.Equal(explicitPath, WeightsResolver.Resolve(explicitPath));
        var previous = Environment.GetEnvironmentVariable(WeightsResolver.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(WeightsResolver.EnvironmentVariable, explicitPath);
            Assert.Equal(explicitPath, WeightsResolver.Resolve());
            Environment.SetEnvironmentVariable(WeightsResolver.EnvironmentVariable, "/nonexistent/env.caffemodel");
            e = Assert.Throws<FileNotFoundException>(() => WeightsResolver.Resolve());
            Assert.Contains("NATIVEIG_WEIGHTS", e.Message);
        }
        finally { Environment.SetEnvironmentVariable(WeightsResolver.EnvironmentVariable, previous); }
        Assert.Contains("weights/fetch.sh", WeightsResolver.HowToGetWeights);
    }

    /// <summary>Just enough protobuf encoding to build test files.</summary>
    private sealed class ProtoWriter
    {
        private readonly List<byte> _bytes = [];
        public byte[] ToArray() => [.. _bytes];
        private void Raw(ulong v) { while (v >= 0x80) { _bytes.Add((byte)(v | 0x80)); v >>= 7; } _bytes.Add((byte)v); }
        private void Key(int field, int wire) => Raw((ulong)(field << 3 | wire));
        public void Varint(int field, ulong v) { Key(field, 0); Raw(v); }
        public void Fixed32(int field, float v) { Key(field, 5); _bytes.AddRange(BitConverter.GetBytes(v)); }
        public void String(int field, string s) { var b = System.Text.Encoding.UTF8.GetBytes(s); Key(field, 2); Raw((ulong)b.Length); _bytes.AddRange(b); }
        public void Message(int field, Action<ProtoWriter> body) { var inner = new ProtoWriter(); body(inner); var b = inner.ToArray(); Key(field, 2); Raw((ulong)b.Length); _bytes.AddRange(b); }
        public void Packed(int field, ulong[] values) { var inner = new ProtoWriter(); foreach (var v in values) inner.Raw(v); var b = inner.ToArray(); Key(field, 2); Raw((ulong)b.Length); _bytes.AddRange(b); }
        public void PackedFloats(int field, float[] values) { Key(field, 2); Raw((ulong)(values.Length * 4)); foreach (var v in values) _bytes.AddRange(BitConverter.GetBytes(v)); }
    }
}

public class ImageLoaderTests
{
    [Fact]
    public void BadImagesFailWithTheFileName()
    {
        var dir = TempDir();
        var empty = Path.Combine(dir, "empty.jpg");
        File.WriteAllBytes(empty, []);
        Assert.Contains("empty", Assert.Throws<ImageFormatException>(() => ImageLoader.Load(empty)).Message);
        var text = Path.Combine(dir, "notes.png");
        File.WriteAllText(text, "this is not an image at all");
        Assert.Contains(text, Assert.Throws<ImageFormatException>(() => ImageLoader.Load(text)).Message);
        var jpeg = File.ReadAllBytes(Shared("images/fireboat.jpg"));
        var truncated = Path.Combine(dir, "truncated.jpg");
        File.WriteAllBytes(truncated, jpeg[..200]);
        Assert.Contains(truncated, Assert.Throws<ImageFormatException>(() => ImageLoader.Load(truncated)).Message);
        Assert.Contains("not found", Assert.Throws<ImageFormatException>(() => ImageLoader.Load(Path.Combine(dir, "missing.jpg"))).Message);
    }

    [Fact]
    public void AbsurdlyLargeImagesAreRefusedBeforeDecoding()
    {
        // A real 1×1 PNG whose header is edited to claim 100000 × 1 pixels.
        using var stream = new MemoryStream();
        new StbImageWriteSharp.ImageWriter().WritePng(new byte[] { 1, 2, 3 }, 1, 1, StbImageWriteSharp.ColorComponents.RedGreenBlue, stream);
        var png = stream.ToArray();
        png[16] = 0x00; png[17] = 0x01; png[18] = 0x86; png[19] = 0xA0; // IHDR width, big-endian
        var e = Assert.Throws<ImageFormatException>(() => ImageLoader.Decode(png, "huge.png"));
        Assert.Contains("100000", e.Message);
    }

    [Fact]
    public void GreyAndAlphaPngsBecomeRgbAndNpyRoundTrips()
    {
        var dir = TempDir();
        var grey = Path.Combine(dir, "grey.png");
        using (var stream = File.Create(grey))
            new StbImageWriteSharp.ImageWriter().WritePng(new byte[] { 0, 128, 255, 64 }, 2, 2, StbImageWriteSharp.ColorComponents.Grey, stream);
        using var image = ImageLoader.Load(grey);
        Assert.Equal([2, 2, 3], image.Shape.ToArray());
        Assert.Equal(128 / 255f, image[3], 6);
        Assert.Equal(image[3], image[5]);
        var npy = Path.Combine(dir, "x.npy");
        Npy.Write(npy, image.Span, image.Shape);
        using var back = ImageLoader.Load(npy);
        Assert.Equal(image.ToArray(), back.ToArray());
        Npy.Write(npy, new float[4], [2, 2]);
        Assert.Contains("[2, 2]", Assert.Throws<ImageFormatException>(() => ImageLoader.Load(npy)).Message);
    }

    [Fact]
    public void ResizeWithPadPlacesNonSquareImagesLikeTensorFlow()
    {
        // city.jpg is 648×350: 224 wide × 120 high at row 51 (reference/README.md).
        using var image = ImageLoader.LoadForModel(Shared("images/city.jpg"));
        for (int x = 0; x < 224; x++)
        {
            Assert.Equal(0f, image[(50 * 224 + x) * 3]);
            Assert.Equal(0f, image[(171 * 224 + x) * 3 + 1]);
        }
        Assert.NotEqual(0f, image.Span.Slice(51 * 224 * 3, 224 * 3).ToArray().Max());
        Assert.NotEqual(0f, image.Span.Slice(170 * 224 * 3, 224 * 3).ToArray().Max());
    }
}

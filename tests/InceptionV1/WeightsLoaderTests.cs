using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

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

    [SharedFact]
    public void TruncatedFileFailsNamingTheFile()
    {
        var path = Write(RealBytes.Value[..(RealBytes.Value.Length / 2)]);
        var e = Assert.Throws<WeightsFormatException>(() => GoogLeNet.Load(path, verifyChecksum: false));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [SharedFact]
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

    [SharedFact]
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

    [SharedFact]
    public void FileWithALayerDroppedFailsNamingTheLayer()
    {
        var bytes = RealBytes.Value;
        var layer = TopLevelLayers(bytes).Single(l => l.Name == "inception_4c/5x5");
        var path = Write([.. bytes[..layer.Start], .. bytes[layer.End..]]);
        var e = Assert.Throws<WeightsFormatException>(() => GoogLeNet.Load(path, verifyChecksum: false));
        Assert.Contains(path, e.Message);
        Assert.Contains("'inception_4c/5x5'", e.Message);
    }

    [SharedFact]
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

    [SharedFact]
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

using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

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
        var e = Assert.Throws<FormatException>(() => NativeIg.Tensors.IO.Npy.Read(path));
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
        var e = Assert.Throws<FormatException>(() => NativeIg.Tensors.IO.Npy.Read(path));
        Assert.Contains("runs past the end", e.Message);
    }

    [Fact]
    public void DataOfTheWrongLengthIsRefusedAndAGoodFileReads()
    {
        var dir = TempDir();
        var good = Path.Combine(dir, "good.npy");
        File.WriteAllBytes(good, Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24));
        using (var t = NativeIg.Tensors.IO.Npy.Read(good)) Assert.Equal([2, 3], t.Shape.ToArray());
        var shortFile = Path.Combine(dir, "short.npy");
        File.WriteAllBytes(shortFile, Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20));
        Assert.Contains("needs 24 data bytes", Assert.Throws<FormatException>(() => NativeIg.Tensors.IO.Npy.Read(shortFile)).Message);
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

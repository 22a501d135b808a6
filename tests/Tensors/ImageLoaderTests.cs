using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

public class ImageLoaderTests
{
    [SharedFact]
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

    [SharedFact]
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

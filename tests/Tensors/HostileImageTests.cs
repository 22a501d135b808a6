using System.Diagnostics;
using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

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
    [SharedFact]
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

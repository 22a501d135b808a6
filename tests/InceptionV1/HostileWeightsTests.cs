using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

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
    [SharedFact]
    public void NonFiniteWeightsAreRefusedNamingTheLayer()
    {
        var layers = CaffeModelReader.ReadFile(Shared("weights/bvlc_googlenet.caffemodel"));
        var target = layers.First(l => l.Name == "inception_4c/3x3");
        target.Blobs[0].Data[123] = float.PositiveInfinity;
        var e = Assert.Throws<WeightsFormatException>(() => WeightsLoader.FromLayers(layers, "nan.caffemodel"));
        Assert.Contains("inception_4c/3x3", e.Message);
        Assert.Contains("finite", e.Message);
    }

    [SharedFact]
    public void TwoLayersWithOneNameAreRefused()
    {
        var layers = CaffeModelReader.ReadFile(Shared("weights/bvlc_googlenet.caffemodel")).ToList();
        layers.Add(layers.First(l => l.Name == "conv1/7x7_s2"));
        var e = Assert.Throws<WeightsFormatException>(() => WeightsLoader.FromLayers(layers, "dup.caffemodel"));
        Assert.Contains("two layers are named 'conv1/7x7_s2'", e.Message);
    }
}

using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Softmax and log-softmax kernels against <see cref="SoftmaxReference"/>.</summary>
[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
public class SoftmaxTests
{
    [Fact]
    public void SoftmaxIsStableAndMatchesDouble()
    {
        var x = new float[] { 1000f, 999f, -1000f, 0f, 1f, 2f, 3f, 4f };
        var y = new float[8];
        Softmax.Forward(x, y, 4);
        var expected = SoftmaxReference.Forward(ToDouble(x), 4);
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], y[i], 6);
        Softmax.LogForward(x, y, 4);
        expected = SoftmaxReference.Forward(ToDouble(x), 4, log: true);
        for (int i = 0; i < 8; i++) Assert.True(Math.Abs(expected[i] - y[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])), $"log-softmax[{i}]: {y[i]} vs {expected[i]}");
    }
}

using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>The fully connected kernel against <see cref="FullyConnectedReference"/>.</summary>
[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
public class FullyConnectedTests
{
    [Fact]
    public void FullyConnectedMatchesReference()
    {
        int n = 3, inputs = 37, outputs = 29;
        var x = Random(n * inputs, 51); var w = Random(inputs * outputs, 52); var b = Random(outputs, 53);
        using var X = Tensor.FromSpan(x, n, inputs); using var W = Tensor.FromSpan(w, inputs, outputs);
        using var B = Tensor.FromSpan(b, outputs); using var Y = Tensor.Uninitialized(n, outputs);
        FullyConnected.Forward(X, W, B, Y);
        var expected = FullyConnectedReference.Forward(ToDouble(x), ToDouble(w), ToDouble(b), n, inputs, outputs);
        AssertClose(expected.Select(v => (float)v).ToArray(), Y.Span, 1e-6, DotTolerance(inputs), "FC");
        using var badW = Tensor.Zeros(inputs + 1, outputs);
        Assert.Throws<ArgumentException>(() => FullyConnected.Forward(X, badW, B, Y));
    }
}

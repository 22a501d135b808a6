using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
public class LrnTests
{
    public static TheoryData<int, int, int, float> Shapes => new()
    {
        // pixels, channels, size, beta — GoogLeNet's two LRNs at 56², then odd channel counts and windows
        { 56 * 56, 64, 5, 0.75f }, { 56 * 56, 192, 5, 0.75f },
        { 3, 1, 5, 0.75f }, { 4, 2, 5, 0.75f }, { 5, 3, 3, 0.75f }, { 7, 7, 4, 0.6f }, { 2, 17, 5, 0.5f }, { 3, 33, 1, 0.75f },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReferenceForwardAndBackward(int pixels, int c, int size, float beta)
    {
        // α large enough that the normalisation is visible (GoogLeNet's 1e-4 on ×255 inputs is similar).
        var p = new LrnParameters(size, 0.5f, beta, 1.5f);
        var x = Random(pixels * c, 41, -2, 2);
        using var X = Tensor.FromSpan(x, 1, pixels, 1, c);
        using var Y = Tensor.Uninitialized(1, pixels, 1, c);
        Lrn.Forward(p, X, Y);
        var expected = LrnReference.Forward(p, ToDouble(x), c);
        AssertClose(expected, Y.Span, 1e-6, 1e-5, "LRN forward");
        var dy = Random(x.Length, 42);
        using var DY = Tensor.FromSpan(dy, 1, pixels, 1, c);
        using var DX = Tensor.Uninitialized(1, pixels, 1, c);
        Lrn.Backward(p, X, DY, DX);
        var expectedDx = LrnReference.Backward(p, ToDouble(x), ToDouble(dy), c);
        AssertClose(expectedDx, DX.Span, 1e-6, 1e-5, "LRN backward");
    }
}

using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>ReLU's byte mask and masked gradient at every vector tail.</summary>
[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
public class ReluTests
{
    [Fact]
    public void ReluMaskMarksPositiveValuesAndApplyMaskZeroesTheRestAtEveryLength()
    {
        // Lengths across several vector groups (4 vectors narrow to one byte vector) and every tail.
        for (int n = 0; n < 100; n++)
        {
            var y = Random(n, n);
            var mask = new byte[n];
            Relu.Mask(y, mask);
            for (int i = 0; i < n; i++) Assert.Equal(y[i] > 0 ? 1 : 0, mask[i]);
            var g = Random(n, 1000 + n);
            var masked = (float[])g.Clone();
            Relu.ApplyMask(masked, mask);
            for (int i = 0; i < n; i++) Assert.Equal(y[i] > 0 ? g[i] : 0f, masked[i]);
        }
    }
}

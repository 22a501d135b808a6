using NativeIg.Tensors;
using Xunit;

namespace NativeIg.Tests;

/// <summary>Channel concatenation and its backward.</summary>
[Trait("Category", "Quick")] // dotnet test --filter Category=Quick: the README's quick check
public class ChannelConcatTests
{
    [Fact]
    public void ConcatPlacesPartsAlongChannelsAndBackwardSplitsThem()
    {
        using var a = TestUtil.RandomTensor(1, 2, 3, 3, 1);
        using var b = TestUtil.RandomTensor(2, 2, 3, 3, 5);
        using var y = Tensor.Uninitialized(2, 3, 3, 6);
        ChannelConcat.Forward([a, b], y);
        for (int px = 0; px < 18; px++)
        {
            Assert.Equal(a[px], y[px * 6]);
            for (int c = 0; c < 5; c++) Assert.Equal(b[px * 5 + c], y[px * 6 + 1 + c]);
        }
        using var da = Tensor.Uninitialized(2, 3, 3, 1);
        using var db = Tensor.Uninitialized(2, 3, 3, 5);
        ChannelConcat.Backward(y, [da, db]);
        Assert.Equal(a.ToArray(), da.ToArray());
        Assert.Equal(b.ToArray(), db.ToArray());
        using var wrong = Tensor.Uninitialized(2, 3, 3, 7);
        var e = Assert.Throws<ArgumentException>(() => ChannelConcat.Forward([a, b], wrong));
        Assert.Contains("[2, 3, 3, 7]", e.Message);
    }
}

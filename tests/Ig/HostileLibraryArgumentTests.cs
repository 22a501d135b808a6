using NativeIg.Ig;
using Xunit;

namespace NativeIg.Tests;

/// <summary>Item 4 in the library: a batch of int.MaxValue overflowed the chunk count and returned all-zero attributions.</summary>
public class HostileLibraryArgumentTests
{
    [Fact]
    public void HugeBatchesAndStepsAreRefusedAndTheChunksCoverThePathExactly()
    {
        var ig = new IntegratedGradients(FunctionModel.Linear([1f, 2f]));
        using var x = FunctionModel.Image(1f, 1f);
        using var baseline = FunctionModel.Image(0f, 0f);
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(x, baseline, 0, 50, batchSize: int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(x, baseline, 0, int.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.AutoSteps(x, baseline, 0, double.NaN));
        using var r = ig.Attribute(x, baseline, 0, 50, batchSize: IntegratedGradients.MaxBatchSize, output: TargetOutput.Logit);
        Assert.Equal(3.0, r.Sum, 5); // not zero: every path image was used
        foreach (int total in new[] { 1, 7, 31, 32, 33, 51, 241, 1001, 5001 })
            foreach (int batch in new[] { 1, 2, 8, 32 })
            {
                var chunks = IntegratedGradients.Chunks(total, batch).ToList();
                Assert.Equal(Enumerable.Range(0, total), chunks.SelectMany(c => Enumerable.Range(c.Start, c.Count)));
                Assert.All(chunks, c => Assert.InRange(c.Count, Math.Min(total, (batch + 1) / 2), batch));
            }
    }
}

using NativeIg.Ig;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>One loaded model serves many threads: concurrent calls give what the same calls give one after another.</summary>
[Collection("model")]
public class ConcurrentAttributionTests(ModelFixture fixture)
{
    [SharedFact]
    public async Task EightConcurrentAttributionsEqualTheSequentialOnesBitForBit()
    {
        var ig = new IntegratedGradients(fixture.Model);
        using var fireboat = Npy.Read(Shared("reference/fireboat_input.npy"));
        using var panda = ImageLoader.LoadForModel(Shared("images/giant_panda.jpg"));
        // Eight calls that differ in image, target (null: the predicted class), baseline, batch size and thread
        // count, so a buffer, a packed filter or a thread limit leaking between calls would change a result.
        var calls = Enumerable.Range(0, 8).Select(i => (
            Image: i % 2 == 0 ? fireboat : panda,
            Target: i % 3 == 0 ? (int?)null : i % 2 == 0 ? 554 : 388,
            Baseline: i % 4 < 2 ? 0f : 1f,
            Options: IgOptions.Default with { Steps = 6 + i % 3, BatchSize = 2 + i % 4, Threads = 1 + i % 2 })).ToArray();

        float[] Run(int i)
        {
            var c = calls[i];
            using var baseline = Tensor.Filled(c.Baseline, 224, 224, 3);
            using var r = ig.Attribute(c.Image, baseline, c.Target, c.Options);
            Assert.Equal(c.Target ?? (i % 2 == 0 ? 554 : 388), r.Target);
            return r.Attributions.ToArray();
        }

        var sequential = Enumerable.Range(0, calls.Length).Select(Run).ToArray();
        var concurrent = await Task.WhenAll(Enumerable.Range(0, calls.Length).Select(i => Task.Run(() => Run(i))));
        for (int i = 0; i < calls.Length; i++)
        {
            Assert.NotEqual(0f, sequential[i].Max(MathF.Abs));
            Assert.True(sequential[i].AsSpan().SequenceEqual(concurrent[i]), $"call {i} differs when run beside the others");
        }
    }

    [SharedFact]
    public void NullTargetMeansThePredictedClassAndNullBaselineIsBlack()
    {
        var ig = new IntegratedGradients(fixture.Model);
        using var fireboat = Npy.Read(Shared("reference/fireboat_input.npy"));
        Assert.Equal(554, ig.PredictedClass(fireboat));
        var options = IgOptions.Default with { Steps = 4, BatchSize = 5 };
        using var implicitCall = ig.Attribute(fireboat, options: options);
        using var black = Tensor.Zeros(224, 224, 3);
        using var explicitCall = ig.Attribute(fireboat, black, 554, options);
        Assert.Equal(554, implicitCall.Target);
        Assert.Equal(explicitCall.Attributions.ToArray(), implicitCall.Attributions.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(fireboat, black, 1000, options));
        Assert.Throws<ArgumentOutOfRangeException>(() => ig.Attribute(fireboat, black, 554, options with { Threads = 0 }));
    }
}

using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Layer IG, conductance and neuron IG on ILGPU's CPU accelerator equal the host's: the layer taps, the repeated image and the selector all live on the device.</summary>
[Collection("ilgpu")]
public class LayerMethodsDeviceTests(IlgpuCpuFixture fixture)
{
    /// <summary>images [N, 6, 6, 3] → conv 3×3 (4 channels, ReLU) named "conv1" → fully connected → 2 logits.</summary>
    private sealed class TinyConvModel(ComputeDevice? device) : IDifferentiableModel
    {
        private readonly Variable _w1 = Variable.Parameter(RandomTensor(1, 3, 3, 3, 4).To(device), "w1");
        private readonly Variable _b1 = Variable.Parameter(Tensor.Filled(0.1f, 4).To(device), "b1");
        private readonly Variable _w2 = Variable.Parameter(RandomTensor(2, 144, 2).To(device), "w2");
        public int[] ImageShape => [6, 6, 3];
        public int Classes => 2;
        public ComputeDevice? Device => device;

        public Variable Logits(Tape tape, Variable images)
        {
            var conv = tape.Conv2d(images, _w1, _b1, stride: 1, pad: 1, relu: true, name: "conv1");
            var flat = tape.Reshape(conv, [images.Value.Dim(0), 144], "flatten");
            return tape.FullyConnected(flat, _w2, null, "fc");
        }
    }

    [Fact]
    public void LayerConductanceAndNeuronIgOnTheDeviceEqualTheHost()
    {
        var host = new TinyConvModel(null);
        var device = new TinyConvModel(fixture.Device);
        using var image = Tensor.FromSpan(Random(108, 3, 0f, 1f), 6, 6, 3);
        var options = IgOptions.Default with { Steps = 8, BatchSize = 4, Output = TargetOutput.Logit };
        foreach (var run in new Func<IDifferentiableModel, IgResult>[]
        {
            m => LayerIntegratedGradients.Attribute(m, image, "conv1", null, 1, options),
            m => LayerConductance.Attribute(m, image, "conv1", null, 1, options),
            m => NeuronIntegratedGradients.Attribute(m, image, "conv1", 2, null, options),
        })
        {
            using var onHost = run(host);
            using var onDevice = run(device);
            AssertClose(onHost.Attributions.Span, onDevice.Attributions.Span, 1e-5, 1e-4, "device vs host");
            Assert.Equal(onHost.FInput, onDevice.FInput, 4);
            Assert.NotEqual(0f, onHost.Attributions.ToArray().Max(MathF.Abs));
        }
        Assert.Contains(ModelLayers.List(device), l => l.Name == "conv1" && l.Shape.SequenceEqual([6, 6, 4]));
    }
}

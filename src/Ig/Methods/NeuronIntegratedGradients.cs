using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>
/// Neuron Integrated Gradients (Captum's NeuronIntegratedGradients, for a whole channel): which pixels
/// drive one channel of one layer. F is the channel's mean activation over its positions, and IG runs
/// on the input as usual, so completeness holds: Σ attributions = mean(x) − mean(x′). The forward stops
/// at the layer; nothing after it runs.
/// </summary>
public static class NeuronIntegratedGradients
{
    /// <summary>Attributions [H, W, C] of the input to the mean of channel <paramref name="channel"/> of <paramref name="layer"/> (e.g. <c>inception_4d/output</c>, 0…527).</summary>
    /// <exception cref="ArgumentException">The model has no such layer (the message lists layers it has), or the image does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The channel is not one of the layer's.</exception>
    public static IgResult Attribute(IDifferentiableModel model, Tensor image, string layer, int channel, Tensor? baseline = null,
        IgOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(image);
        var info = ModelLayers.Find(model, layer);
        int channels = info.Shape.Count == 0 ? 1 : info.Shape[^1];
        if ((uint)channel >= (uint)channels)
            throw new ArgumentOutOfRangeException(nameof(channel), $"Layer {layer} has {channels} channels (0…{channels - 1}); got {channel}.");
        using var neuron = new ChannelMean(model, layer, channel, info.Shape.ToArray());
        // A mean activation is not a class score: no softmax, and the one output is the target.
        var settings = (options ?? IgOptions.Default) with { Output = TargetOutput.Logit };
        return new IntegratedGradients(neuron).Attribute(image, baseline, 0, settings, cancellationToken);
    }

    /// <summary>The model cut at the layer, with one output per image: the channel's mean, as a fully connected selector (1/positions on the channel, 0 elsewhere).</summary>
    private sealed class ChannelMean : IDifferentiableModel, IDisposable
    {
        private readonly IDifferentiableModel _model;
        private readonly string _layer;
        private readonly Variable _selector;
        private readonly int _size;

        public ChannelMean(IDifferentiableModel model, string layer, int channel, int[] layerShape)
        {
            _model = model;
            _layer = layer;
            _size = layerShape.Aggregate(1, (a, b) => a * b);
            int channels = layerShape.Length == 0 ? 1 : layerShape[^1];
            int positions = _size / channels;
            using var selector = Tensor.Zeros(_size, 1);
            for (int p = 0; p < positions; p++) selector[p * channels + channel] = 1f / positions;
            _selector = Variable.Parameter(selector.To(model.Device), $"{layer}:{channel}");
        }

        public int[] ImageShape => _model.ImageShape;
        public int Classes => 1;
        public NativeIg.Tensors.ComputeDevice? Device => _model.Device;

        public Variable Logits(Tape tape, Variable images)
        {
            var activations = ModelLayers.RunTo(tape, _model, images, _layer) ?? throw ModelLayers.NotFound(_layer, ModelLayers.List(_model));
            var flat = tape.Reshape(activations, [activations.Value.Dim(0), _size], "flatten");
            return tape.FullyConnected(flat, _selector, null, "channel_mean");
        }

        public void Dispose() => _selector.Value.Dispose();
    }
}

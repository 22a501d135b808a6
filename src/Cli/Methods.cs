using System.Globalization;
using System.Text.Json.Nodes;
using NativeIg.Autodiff;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors;

namespace NativeIg.Cli;

/// <summary>
/// `explain --method …`, `--layer`, `--neuron` and the noise tunnel: which attribution method runs, checked
/// before any file is read. Plain IG (the default) stays in <see cref="Explain"/>; every other method
/// runs here, on one image.
/// </summary>
internal sealed record MethodSpec(string Method, int? NoiseSamples, double NoiseSigma, int NoiseSeed, string? Layer, string? NeuronLayer, int NeuronChannel)
{
    public static readonly string[] Methods = ["ig", "gradient", "grad-x-input", "smoothgrad", "blur-ig", "guided-ig", "xrai", "conductance"];
    public static readonly string[] ValueOptions = ["--method", "--noise-samples", "--noise-sigma", "--noise-seed", "--layer", "--neuron"];

    /// <summary>Plain IG on the input, without noise: <see cref="Explain"/>'s own path (and the only one for many images).</summary>
    public bool IsPlainIg => Method == "ig" && NoiseSamples is null && Layer is null && NeuronLayer is null;

    public static MethodSpec Parse(Arguments a)
    {
        string method = (a.Value("--method") ?? "ig").ToLowerInvariant();
        if (!Methods.Contains(method)) throw new UsageException($"--method must be one of {string.Join(", ", Methods)}; got '{method}'.");
        int? samples = a.Int("--noise-samples");
        if (samples is < 1 or > NoiseTunnel.MaxSamples) throw new UsageException($"--noise-samples must be in 1…{NoiseTunnel.MaxSamples}, got {samples}.");
        double sigma = a.Double("--noise-sigma") ?? 0.15;
        if (!(sigma > 0 && sigma <= 1)) throw new UsageException($"--noise-sigma is a fraction of the input's range in (0, 1], got {sigma}.");
        int seed = a.Int("--noise-seed") ?? 0;
        if (method == "smoothgrad") samples ??= 50;
        bool noise = samples is not null || a.Value("--noise-sigma") is not null || a.Value("--noise-seed") is not null;
        if (noise && method is not ("ig" or "gradient" or "grad-x-input" or "smoothgrad"))
            throw new UsageException($"--noise-samples, --noise-sigma and --noise-seed wrap ig, gradient or grad-x-input in SmoothGrad, not {method}.");
        samples ??= noise ? 50 : null;
        string? layer = a.Value("--layer");
        if (layer is "") throw new UsageException("--layer needs a layer name, e.g. inception_4d/output.");
        if (method == "conductance" && layer is null) throw new UsageException("--method conductance needs --layer NAME.");
        if (layer is not null && method is not ("ig" or "conductance")) throw new UsageException($"--layer works with --method ig (layer IG) or conductance, not {method}.");
        if (layer is not null && noise) throw new UsageException("--layer and the noise options do not combine.");
        string? neuronLayer = null;
        int channel = 0;
        if (a.Value("--neuron") is { } neuron)
        {
            int colon = neuron.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(neuron[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out channel))
                throw new UsageException($"--neuron is LAYER:CHANNEL (e.g. inception_4d/output:17), got '{neuron}'.");
            neuronLayer = neuron[..colon];
            if (method != "ig" || layer is not null || noise) throw new UsageException("--neuron works with --method ig alone (no --layer, no noise).");
        }
        return new MethodSpec(method, samples, sigma, seed, layer, neuronLayer, channel);
    }

    /// <summary>The method and its parameters as the JSON report names them.</summary>
    public JsonObject Parameters(Explain.Settings s)
    {
        var p = new JsonObject();
        switch (Method)
        {
            case "ig" or "conductance": p["steps"] = s.Steps; p["rule"] = PathRules.Name(s.Rule); p["baseline"] = s.BaselineSpec; break;
            case "blur-ig": p["steps"] = s.Steps; p["max_sigma"] = new BlurIgOptions().MaxSigma; break;
            case "guided-ig": p["steps"] = s.Steps; p["fraction"] = new GuidedIgOptions().Fraction; p["max_distance"] = new GuidedIgOptions().MaxDistance; p["baseline"] = s.BaselineSpec; break;
            case "xrai": p["steps"] = s.Steps; p["baselines"] = "black+white"; break;
        }
        if (NoiseSamples is { } n) { p["noise_samples"] = n; p["noise_sigma"] = NoiseSigma; p["noise_seed"] = NoiseSeed; }
        if (Layer is not null) p["layer"] = Layer;
        if (NeuronLayer is not null) { p["layer"] = NeuronLayer; p["channel"] = NeuronChannel; }
        p["output"] = s.Output == TargetOutput.Probability ? "probability" : "logit";
        return p;
    }

    /// <summary>The name a figure title and the text output use.</summary>
    public string Title => (Method, NoiseSamples, Layer, NeuronLayer) switch
    {
        (_, _, { } l, _) => Method == "conductance" ? $"Conductance of {l}" : $"Layer IG of {l}",
        (_, _, _, { } n) => $"Neuron IG of {n}:{NeuronChannel}",
        ("smoothgrad", _, _, _) => "SmoothGrad",
        ("ig", not null, _, _) => "SmoothGrad-IG",
        ("gradient", not null, _, _) => "SmoothGrad",
        ("grad-x-input", not null, _, _) => "SmoothGrad of gradient × input",
        ("gradient", _, _, _) => "Gradient",
        ("grad-x-input", _, _, _) => "Gradient × input",
        ("blur-ig", _, _, _) => "Blur IG",
        ("guided-ig", _, _, _) => "Guided IG",
        ("xrai", _, _, _) => "XRAI",
        _ => "Integrated Gradients",
    };
}

/// <summary>One image explained by a method other than plain IG: its pictures, arrays and report.</summary>
internal static class MethodRun
{
    public static int Run(MethodSpec spec, Explain.Settings s, ModelChoice choice, Tensor image, Tensor baseline, int target, string label,
        string imageName, IReadOnlyList<(int Index, float Probability)> top, ImageNetLabels labels, string outDir, bool json, TextWriter stdout, CancellationToken cancellation)
    {
        var model = choice.Model;
        // The layer and channel are checked against the loaded model before any gradient: a name or a channel
        // it does not have is a usage error (exit 2) that lists what there is.
        if ((spec.Layer ?? spec.NeuronLayer) is { } layerName)
        {
            string option = spec.Layer is not null ? "--layer" : "--neuron";
            LayerInfo info;
            try { info = ModelLayers.Find(model, layerName); }
            catch (ArgumentException e) { throw new UsageException($"{option}: {e.Message}"); }
            int channels = info.Shape.Count == 0 ? 1 : info.Shape[^1];
            if (spec.NeuronLayer is not null && spec.NeuronChannel >= channels)
                throw new UsageException($"--neuron {layerName}:{spec.NeuronChannel}: the layer has {channels} channels (0…{channels - 1}).");
        }
        var colormap = s.Colormap ?? Colormap.Inferno;
        double? clip = s.Clip < 100 ? s.Clip : null;
        var igOptions = s.Options();
        IgResult? path = null;       // the methods that integrate along a path: completeness is checked
        Tensor? attributions = null; // the methods without one
        var pictures = new List<(string, Canvas)>();
        var arrays = new List<(string, Tensor)>();
        var dispose = new List<IDisposable>();
        var extra = new JsonObject();
        string title = $"{spec.Title} for '{label}' ({target})";
        try
        {
            switch (spec)
            {
                case { Layer: { } layer }:
                    path = spec.Method == "conductance"
                        ? LayerConductance.Attribute(model, image, layer, baseline, target, igOptions, cancellation)
                        : LayerIntegratedGradients.Attribute(model, image, layer, baseline, target, igOptions, cancellation);
                    arrays.Add(("layer-attributions.npy", path.Attributions));
                    var channels = LayerIntegratedGradients.PerChannel(path.Attributions);
                    var strongest = channels.Select((v, c) => (c, v)).OrderByDescending(t => Math.Abs(t.v)).Take(10).ToArray();
                    extra["layer_shape"] = new JsonArray([.. path.Attributions.Shape.ToArray().Select(d => (JsonNode)d)]);
                    extra["top_channels"] = new JsonArray([.. strongest.Select(t => (JsonNode)new JsonObject { ["channel"] = t.c, ["attribution"] = t.v })]);
                    if (path.Attributions.Rank == 3)
                    {
                        var spatial = LayerIntegratedGradients.Spatial(path.Attributions);
                        dispose.Add(spatial);
                        var upsampled = Upsample(spatial, image.Dim(0), image.Dim(1));
                        dispose.Add(upsampled);
                        var u = upsampled.Span;
                        for (int i = 0; i < u.Length; i++) u[i] = MathF.Abs(u[i]); // the strength of each position, either sign
                        var colored = Visualization.ColorMap(upsampled, colormap, clip);
                        dispose.Add(colored);
                        var overlay = Visualization.Overlay(image, colored);
                        dispose.Add(overlay);
                        pictures.Add(("figure.png", Visualization.PanelRow([("Original", image), ("|Σ over channels|,\nper position", colored), ("Overlay", overlay)], title,
                            new Visualization.ColorBar(colormap, 0, 1, "|Σ attributions|,\nscaled"))));
                    }
                    break;
                case { Method: "blur-ig" }:
                    path = BlurIntegratedGradients.Attribute(model, image, target, new BlurIgOptions { Steps = s.Steps, BatchSize = s.Batch, Output = s.Output }, cancellation);
                    break;
                case { Method: "guided-ig" }:
                    path = GuidedIntegratedGradients.Attribute(model, image, baseline, target, new GuidedIgOptions { Steps = s.Steps, Output = s.Output }, cancellation);
                    break;
                case { NeuronLayer: { } neuronLayer }:
                    path = NeuronIntegratedGradients.Attribute(model, image, neuronLayer, spec.NeuronChannel, baseline, igOptions, cancellation);
                    break;
                case { Method: "xrai" }:
                    var xrai = Xrai.Attribute(model, image, target, new XraiOptions { Steps = s.Steps, BatchSize = s.Batch, Output = s.Output }, cancellation);
                    dispose.Add(xrai);
                    var saliency = Visualization.ColorMap(xrai.Saliency, colormap, null);
                    dispose.Add(saliency);
                    var topRegions = Visualization.Highlight(image, xrai.TopMask(0.3));
                    dispose.Add(topRegions);
                    pictures.Add(("figure.png", Visualization.PanelRow([("Original", image), ("XRAI saliency\n(region density)", saliency), ("XRAI top 30%", topRegions)], title,
                        new Visualization.ColorBar(colormap, 0, 1, "region's mean\nattribution,\nscaled"))));
                    pictures.Add(("xrai.png", Visualization.ToCanvas(saliency)));
                    pictures.Add(("xrai-top30.png", Visualization.ToCanvas(topRegions)));
                    var ranks = Tensor.Uninitialized(image.Dim(0), image.Dim(1));
                    dispose.Add(ranks);
                    for (int p = 0; p < xrai.RegionRank.Length; p++) ranks[p] = xrai.RegionRank[p];
                    arrays.Add(("xrai.npy", xrai.Saliency));
                    arrays.Add(("regions.npy", ranks));
                    arrays.Add(("attributions.npy", xrai.Ig.Attributions));
                    extra["regions"] = xrai.Regions;
                    extra["candidate_regions"] = xrai.CandidateRegions;
                    extra["ig_relative_delta"] = xrai.Ig.RelativeDelta;
                    break;
                default:
                    attributions = PlainAttributions(spec, s, model, image, baseline, target, igOptions, cancellation);
                    var colored2 = Visualization.ColorMap(attributions, colormap, clip);
                    dispose.Add(colored2);
                    var overlay2 = Visualization.Overlay(image, colored2);
                    dispose.Add(overlay2);
                    pictures.Add(("figure.png", Visualization.PanelRow([("Original", image), ("Attribution mask", colored2), ("Overlay", overlay2)], title,
                        new Visualization.ColorBar(colormap, 0, 1, $"Σ|attributions|,\nscaled{(clip is { } c ? $", clipped\nat {c:0.#}th percentile" : "")}"))));
                    pictures.Add(("mask.png", Visualization.ToCanvas(colored2)));
                    pictures.Add(("overlay.png", Visualization.ToCanvas(overlay2)));
                    arrays.Add(("attributions.npy", attributions));
                    break;
            }
            cancellation.ThrowIfCancellationRequested();
            IReadOnlyList<string> written;
            if (path is not null && spec.Layer is null)
            {
                // A path on the input: the standard set of pictures, with the path's own baseline.
                using var shownBaseline = spec.Method == "blur-ig" ? GaussianBlur.Blur(image, new BlurIgOptions().MaxSigma) : baseline.Clone();
                var files = ExplanationFiles.Write(outDir, path, image, shownBaseline, $"{title}, {path.Steps} steps", s.Colormap, clip, signed: false);
                written = [files.Figure, files.Mask, files.Overlay, files.Saturation, files.Interpolation, files.Attributions, files.Path];
            }
            else written = ExplanationFiles.WritePictures(outDir, pictures, arrays);

            if (json)
            {
                var record = new JsonObject
                {
                    ["image"] = imageName, ["target"] = target, ["label"] = label, ["method"] = spec.Method, ["method_name"] = spec.Title,
                    ["parameters"] = spec.Parameters(s),
                    ["f_input"] = path?.FInput, ["f_baseline"] = path?.FBaseline, ["sum"] = path?.Sum ?? (attributions is null ? null : System.Numerics.Tensors.TensorPrimitives.Sum(attributions.Span)),
                    ["delta"] = path?.Delta, ["relative_delta"] = path?.RelativeDelta,
                    ["seconds"] = path is null ? null : Math.Round(path.Elapsed.TotalSeconds, 3),
                    ["top"] = Program.TopJson(top, labels),
                    ["files"] = Program.FilesJson(written),
                };
                foreach (var (key, value) in extra.ToArray()) { extra.Remove(key); record[key] = value; }
                Program.WriteJson(stdout, record);
            }
            else
            {
                stdout.WriteLine(imageName);
                foreach (var (index, p) in top) stdout.WriteLine($"  {labels[index]}: {choice.Show(p)}");
                stdout.WriteLine($"{title}");
                if (path is not null)
                {
                    stdout.WriteLine($"  F(x)        = {path.FInput:G6}");
                    stdout.WriteLine($"  F(baseline) = {path.FBaseline:G6}{(spec.Method == "blur-ig" ? $" (the image blurred with σ = {new BlurIgOptions().MaxSigma})" : "")}");
                    stdout.WriteLine($"  sum(attr)   = {path.Sum:G6}");
                    stdout.WriteLine($"  delta       = {path.Delta:+0.000000;-0.000000} ({path.RelativeDelta * 100:0.00}% of F(x) - F(baseline))");
                }
                if (extra["top_channels"] is JsonArray channelList)
                    stdout.WriteLine("  strongest channels: " + string.Join(", ", channelList.Select(c => $"{c!["channel"]} ({(double)c["attribution"]!:G3})")));
                if (extra["regions"] is { } regions) stdout.WriteLine($"  {regions} regions ranked of {extra["candidate_regions"]} candidates");
                stdout.WriteLine($"Wrote {string.Join(", ", written.Select(Path.GetFileName))} into {outDir}");
            }
            return Program.Success;
        }
        finally
        {
            path?.Dispose();
            attributions?.Dispose();
            foreach (var d in dispose) d.Dispose();
        }
    }

    /// <summary>Gradient, gradient × input, or IG, each alone or inside the noise tunnel.</summary>
    private static Tensor PlainAttributions(MethodSpec spec, Explain.Settings s, IDifferentiableModel model, Tensor image, Tensor baseline, int target, IgOptions igOptions, CancellationToken cancellation)
    {
        var ig = new IntegratedGradients(model);
        Func<Tensor, Tensor> method = spec.Method switch
        {
            "gradient" or "smoothgrad" => x => Gradients.Plain(model, x, target, s.Output),
            "grad-x-input" => x => Gradients.TimesInput(model, x, target, s.Output),
            _ => x => { using var r = ig.Attribute(x, baseline, target, igOptions, cancellation); return r.Attributions.Clone(); },
        };
        if (spec.NoiseSamples is not { } samples) return method(image);
        return NoiseTunnel.Attribute(method, image, new NoiseOptions { Samples = samples, Sigma = spec.NoiseSigma, Seed = spec.NoiseSeed }, cancellation);
    }

    /// <summary>A [h, w] map stretched to [H, W] by nearest neighbour (a layer's positions onto the image).</summary>
    internal static Tensor Upsample(Tensor map, int height, int width)
    {
        int h = map.Dim(0), w = map.Dim(1);
        var result = Tensor.Uninitialized(height, width);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) result[y * width + x] = map[(y * h / height) * w + x * w / width];
        return result;
    }
}

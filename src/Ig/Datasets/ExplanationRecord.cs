using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NativeIg.Ig;

/// <summary>
/// One image of a run, as its report line says it: what was explained, the numbers that judge the
/// integral, the settings and the tool, or the error that stopped it. Stored as result.json in the
/// image's folder, so the run's report can always be rebuilt from the folders.
/// </summary>
public sealed record ExplanationRecord
{
    /// <summary>The image's name in the run (its folder under the run's folder).</summary>
    public required string Image { get; init; }
    /// <summary>Which of the image's classes this explains: 1 for its top class (or the given target), R for its R-th most probable.</summary>
    public int Rank { get; init; } = 1;
    /// <summary>The settings this result was computed with (<see cref="DatasetSettings.Signature"/>); a rerun with other settings redoes it.</summary>
    public required string Settings { get; init; }
    /// <summary>Why the image has no explanation (unreadable, damaged, …), or null.</summary>
    public string? Error { get; init; }
    /// <summary>The class explained.</summary>
    public int Target { get; init; }
    /// <summary>Its label.</summary>
    public string Label { get; init; } = "";
    /// <summary>The most probable classes, best first: (index, label, probability).</summary>
    public IReadOnlyList<(int Index, string Label, double Probability)> Top { get; init; } = [];
    /// <summary>The steps used.</summary>
    public int Steps { get; init; }
    /// <summary>F(x) and F(x′).</summary>
    public double FInput { get; init; }
    /// <summary>F at the baseline.</summary>
    public double FBaseline { get; init; }
    /// <summary>Σ attributions.</summary>
    public double Sum { get; init; }
    /// <summary>The completeness gap Σ attributions − (F(x) − F(x′)).</summary>
    public double Delta { get; init; }
    /// <summary>|Δ| / |F(x) − F(x′)|.</summary>
    public double RelativeDelta { get; init; }
    /// <summary>Wall time of this image: reading it, classifying it, the integral and the pictures.</summary>
    public double Seconds { get; init; }
    /// <summary>The part of <see cref="Seconds"/> spent in Integrated Gradients itself (the path's forward and backward passes).</summary>
    public double IgSeconds { get; init; }
    /// <summary>The tool and version that wrote it, the device and the threads.</summary>
    public string Tool { get; init; } = "";
    /// <summary>Where it ran: cpu, cuda, ….</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Worker threads.</summary>
    public int Threads { get; init; }

    /// <summary>The top class's probability (the model's confidence), or 0 without one.</summary>
    public double Confidence => Top.Count > 0 ? Top[0].Probability : 0;

    /// <summary>The report line: one JSON object, keys in a fixed order.</summary>
    public string ToJsonLine()
    {
        var o = new JsonObject { ["schema_version"] = ExplanationJson.SchemaVersion, ["image"] = Image };
        if (Rank != 1) o["rank"] = Rank;
        if (Error is not null) o["error"] = Error;
        else
        {
            o["target"] = Target; o["label"] = Label;
            o["top"] = new JsonArray(Top.Select(t => (JsonNode)new JsonObject { ["index"] = t.Index, ["label"] = t.Label, ["probability"] = Math.Round(t.Probability, 6) }).ToArray());
            o["steps"] = Steps; o["f_input"] = FInput; o["f_baseline"] = FBaseline; o["sum"] = Sum; o["delta"] = Delta;
            o["relative_delta"] = RelativeDelta; o["seconds"] = Math.Round(Seconds, 3); o["ig_seconds"] = Math.Round(IgSeconds, 3);
        }
        o["settings"] = Settings; o["tool"] = Tool; o["device"] = Device; o["threads"] = Threads;
        return o.ToJsonString(ExplanationJson.Options);
    }

    private static (int Index, string Label, double Probability) TopEntry(JsonNode? entry) =>
        entry is JsonObject { } t && t["index"] is { } index && t["label"] is { } label && t["probability"] is { } probability
            ? ((int)index.GetValue<double>(), label.GetValue<string>(), probability.GetValue<double>())
            : throw new FormatException("a \"top\" entry without index, label and probability");

    /// <summary>Reads a report line back; a <see cref="FormatException"/> naming <paramref name="source"/> when it is not one.</summary>
    public static ExplanationRecord FromJsonLine(string line, string source)
    {
        try
        {
            var o = JsonNode.Parse(line, documentOptions: new JsonDocumentOptions { MaxDepth = 8 })?.AsObject() ?? throw new FormatException("not a JSON object");
            string Text(string key) => o[key]?.GetValue<string>() ?? throw new FormatException($"no \"{key}\"");
            double Number(string key)
            {
                if (o[key] is not { } n) return 0;
                // NaN and ±Infinity are written as strings; a bare number that overflows is damage, not a value.
                if (n.GetValueKind() == JsonValueKind.String) return double.Parse(n.GetValue<string>(), CultureInfo.InvariantCulture);
                double v = n.GetValue<double>();
                return double.IsFinite(v) ? v : throw new FormatException($"\"{key}\" overflows a double");
            }
            if (o["error"] is null && o["top"] is not JsonArray { Count: > 0 })
                throw new FormatException("no \"top\" classes (an explained image has at least one)");
            return new ExplanationRecord
            {
                Image = Text("image"), Rank = o["rank"] is null ? 1 : (int)Number("rank"), Settings = Text("settings"), Error = o["error"]?.GetValue<string>(),
                Target = (int)Number("target"), Label = o["label"]?.GetValue<string>() ?? "",
                Top = o["top"] is JsonArray top ? top.Select(TopEntry).ToArray() : [],
                Steps = (int)Number("steps"), FInput = Number("f_input"), FBaseline = Number("f_baseline"), Sum = Number("sum"), Delta = Number("delta"),
                RelativeDelta = Number("relative_delta"), Seconds = Number("seconds"), IgSeconds = Number("ig_seconds"), Tool = o["tool"]?.GetValue<string>() ?? "",
                Device = o["device"]?.GetValue<string>() ?? "", Threads = (int)Number("threads"),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new FormatException($"{source}: not a NativeIg result ({e.Message}).", e);
        }
    }
}

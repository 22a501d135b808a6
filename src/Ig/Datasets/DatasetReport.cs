using System.Globalization;
using System.Net;
using System.Text;
using NativeIg.Tensors.IO;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>One image's result and the folder that holds its pictures.</summary>
/// <param name="Record">The result.</param>
/// <param name="Folder">The image's output folder.</param>
public sealed record ExplainedImage(ExplanationRecord Record, string Folder);

/// <summary>
/// A run's summary, always rebuilt from the image folders' result.json (so a stopped run, or shards run
/// apart, lose nothing): report.jsonl (one line per image, errors included, sorted by name), index.html (a
/// static gallery with no server and no external assets, sortable by completeness gap and by confidence),
/// and dataset/ — per predicted class, the mean attribution mask over its images (each mask scaled to sum 1
/// first, so every image weighs the same) as a PNG, and a summary table as CSV and JSON.
/// </summary>
public static class DatasetReport
{
    /// <summary>Every result.json under <paramref name="runDirectories"/> (each image once: the first run folder that has it wins).</summary>
    public static IReadOnlyList<ExplainedImage> Collect(params string[] runDirectories)
    {
        ArgumentNullException.ThrowIfNull(runDirectories);
        var byName = new SortedDictionary<(string, int), ExplainedImage>();
        foreach (var run in runDirectories)
        {
            if (!Directory.Exists(run)) throw new DirectoryNotFoundException($"{run}: no such run folder.");
            // Walked as input folders are (each folder once by its real path): a link loop in a run folder cannot make merge run forever.
            int entries = 0;
            foreach (var file in ImageInputs.ListFolder(run, null, _ => { }, ref entries, f => Path.GetFileName(f) == "result.json"))
            {
                var record = ExplanationRecord.FromJsonLine(BoundedText(file), file);
                byName.TryAdd((record.Image, record.Rank), new ExplainedImage(record, Path.GetDirectoryName(file)!));
            }
        }
        return byName.Values.ToArray();
    }

    /// <summary>A result.json's text: a regular file of at most 1 MiB (a pipe in its place would block the read).</summary>
    internal static string BoundedText(string path) =>
        Encoding.UTF8.GetString(BoundedFile.ReadAll(path, 1 << 20, "result", m => new FormatException(m)));

    /// <summary>Writes report.jsonl, index.html and dataset/ into <paramref name="directory"/> (each file under a temporary name, then renamed).</summary>
    public static void Write(string directory, IReadOnlyList<ExplainedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        Directory.CreateDirectory(Path.Combine(directory, "dataset"));
        using var files = new AtomicFiles();
        var sorted = images.OrderBy(i => i.Record.Image, StringComparer.Ordinal).ThenBy(i => i.Record.Rank).ToArray();
        files.Write(Path.Combine(directory, "report.jsonl"), s => s.Write(Encoding.UTF8.GetBytes(string.Concat(sorted.Select(i => i.Record.ToJsonLine() + "\n")))));
        files.Write(Path.Combine(directory, "index.html"), s => s.Write(Encoding.UTF8.GetBytes(Gallery(directory, sorted))));
        WriteDataset(files, Path.Combine(directory, "dataset"), sorted);
        files.Commit();
    }

    private static string Link(string directory, string folder, string file) =>
        string.Join('/', Path.GetRelativePath(directory, Path.Combine(folder, file)).Split(Path.DirectorySeparatorChar).Select(Uri.EscapeDataString));

    private static string Gallery(string directory, ExplainedImage[] images)
    {
        static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>NativeIg: Integrated Gradients</title>
            <style>
            body{font-family:sans-serif;margin:16px;background:#fafafa}
            .cards{display:flex;flex-wrap:wrap;gap:12px}
            .card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;width:240px;font-size:13px}
            .card img{width:224px;height:224px;display:block;image-rendering:pixelated}
            .bad{color:#b00}.error{border-color:#b00}
            button{margin-right:6px}
            </style></head><body>
            """);
        int failed = images.Count(i => i.Record.Error is not null);
        html.Append(CultureInfo.InvariantCulture, $"<h1>Integrated Gradients: {images.Length} images{(failed > 0 ? $", {failed} failed" : "")}</h1>\n");
        html.Append("<p>Sort by <button onclick=\"sortBy('delta',-1)\">|delta| (worst first)</button><button onclick=\"sortBy('confidence',1)\">confidence (lowest first)</button><button onclick=\"sortBy('name',1)\">name</button> · a relative |delta| over 5% (red) needs more steps.</p>\n<div class=\"cards\" id=\"cards\">\n");
        foreach (var (record, folder) in images)
        {
            string name = WebUtility.HtmlEncode(record.Image);
            if (record.Error is not null)
            {
                html.Append(CultureInfo.InvariantCulture, $"<div class=\"card error\" data-name=\"{name}\" data-delta=\"1e9\" data-confidence=\"-1\"><b>{name}</b><p class=\"bad\">{WebUtility.HtmlEncode(record.Error)}</p></div>\n");
                continue;
            }
            string top = string.Join("<br>", record.Top.Select(t => $"{WebUtility.HtmlEncode(t.Label)}: {F(t.Probability * 100, "0.0")}%"));
            html.Append(CultureInfo.InvariantCulture,
                $"<div class=\"card\" data-name=\"{name}\" data-delta=\"{F(record.RelativeDelta, "R")}\" data-confidence=\"{F(record.Confidence, "R")}\">" +
                $"<a href=\"{Link(directory, folder, "figure.png")}\"><img src=\"{Link(directory, folder, "overlay.png")}\" alt=\"overlay of {name}\" onload=\"this.dataset.loaded=1\" onerror=\"this.dataset.broken=1\"></a>" +
                $"<b>{name}</b>{(record.Rank > 1 ? $" (class {record.Rank})" : "")}<br>target: {WebUtility.HtmlEncode(record.Label)} ({record.Target})<br>{top}<br>" +
                $"<span class=\"{(record.RelativeDelta > 0.05 ? "bad" : "")}\">delta {F(record.Delta, "+0.0000;-0.0000")} ({F(record.RelativeDelta * 100, "0.0")}%)</span>, {record.Steps} steps</div>\n");
        }
        html.Append("""
            </div>
            <script>
            function sortBy(key, order){
              const box=document.getElementById('cards');
              const cards=[...box.children];
              cards.sort((a,b)=>key==='name'?a.dataset.name.localeCompare(b.dataset.name):order*(parseFloat(a.dataset[key])-parseFloat(b.dataset[key])));
              cards.forEach(c=>box.appendChild(c));
            }
            </script>
            </body></html>
            """);
        return html.ToString();
    }

    private static void WriteDataset(AtomicFiles files, string folder, ExplainedImage[] images)
    {
        var rows = new List<(int Class, string Label, int Images, double Confidence, double Delta, double Steps, string Picture)>();
        // Each image once, by its own prediction (the rank-1 explanation when there are several per image).
        foreach (var group in images.Where(i => i.Record.Error is null && i.Record.Rank == 1).GroupBy(i => i.Record.Top[0].Index).OrderBy(g => g.Key))
        {
            float[]? sum = null;
            int h = 0, w = 0;
            foreach (var image in group)
            {
                var npy = Path.Combine(image.Folder, "attributions.npy");
                using var attributions = Npy.Read(npy);
                if (attributions.Rank != 3 || attributions.Dim(2) != 3)
                    throw new FormatException($"{npy}: attributions of shape {attributions.ShapeString}; an explanation's are [H, W, 3].");
                using var mask = Visualization.AttributionMask(attributions);
                var m = mask.Span;
                (h, w) = (mask.Dim(0), mask.Dim(1));
                sum ??= new float[m.Length];
                if (sum.Length != m.Length) throw new FormatException($"{image.Folder}: attributions of another size than the other images of class {group.Key}.");
                float total = System.Numerics.Tensors.TensorPrimitives.Sum<float>(m);
                if (total > 0) for (int i = 0; i < m.Length; i++) sum[i] += m[i] / total;
            }
            var first = group.First().Record;
            string picture = $"class-{group.Key:D4}.png";
            using (var mean = Tensor.FromSpan(sum!, h, w))
            {
                var normalized = Visualization.Normalize(mean, 99);
                using var colored = Visualization.Colorize(normalized, h, w, Colormap.Inferno);
                var canvas = Visualization.ToCanvas(colored);
                files.Write(Path.Combine(folder, picture), canvas.WritePng);
            }
            rows.Add((group.Key, first.Top[0].Label, group.Count(), group.Average(i => i.Record.Confidence),
                group.Average(i => i.Record.RelativeDelta), group.Average(i => (double)i.Record.Steps), picture));
        }
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        // A cell a spreadsheet would run as a formula (=, +, -, @, tab, return first) is made text with a leading quote.
        static string Csv(string text)
        {
            if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r') text = "'" + text;
            return text.Contains(',') || text.Contains('"') || text.Contains('\n') ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
        }
        var csv = new StringBuilder("class,label,images,mean_confidence,mean_relative_abs_delta,mean_steps,mean_mask\n");
        foreach (var r in rows) csv.Append(CultureInfo.InvariantCulture, $"{r.Class},{Csv(r.Label)},{r.Images},{F(r.Confidence)},{F(r.Delta)},{F(r.Steps)},{r.Picture}\n");
        files.Write(Path.Combine(folder, "summary.csv"), s => s.Write(Encoding.UTF8.GetBytes(csv.ToString())));
        var json = new System.Text.Json.Nodes.JsonArray(rows.Select(r => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
        {
            ["class"] = r.Class, ["label"] = r.Label, ["images"] = r.Images, ["mean_confidence"] = r.Confidence,
            ["mean_relative_abs_delta"] = r.Delta, ["mean_steps"] = r.Steps, ["mean_mask"] = r.Picture,
        }).ToArray());
        files.Write(Path.Combine(folder, "summary.json"), s => s.Write(Encoding.UTF8.GetBytes(json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n")));
    }
}

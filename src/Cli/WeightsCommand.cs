using System.Security.Cryptography;
using NativeIg.InceptionV1;

using NativeIg.Tensors.IO;

namespace NativeIg.Cli;

/// <summary>
/// `nativeig weights fetch [--from DIR] [--to DIR]`: puts the BVLC GoogLeNet weights and the ImageNet
/// labels into the per-user cache (or DIR), from a local folder or by download, checksum-verified, each
/// written to a temporary name and renamed only when complete. `nativeig weights path` prints the
/// weights file the other commands would use.
/// </summary>
internal static class WeightsCommand
{
    public static readonly string[] ValueOptions = ["--from", "--to", "--weights"];
    public static readonly string[] Flags = [];

    private const string OfficialUrl = "http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel";
    /// <summary>Where the optional labels file is downloaded from; <c>NATIVEIG_LABELS_URL</c> names a mirror.</summary>
    private static string LabelsUrl => Environment.GetEnvironmentVariable("NATIVEIG_LABELS_URL") is { Length: > 0 } mirror ? mirror
        : "https://raw.githubusercontent.com/opencv/opencv/3.3.1/samples/data/dnn/synset_words.txt";
    private const string LabelsName = "synset_words.txt";

    public static int Run(Arguments a, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        switch (a.Positional.FirstOrDefault())
        {
            case "path":
                stdout.WriteLine(WeightsResolver.Resolve(a.Value("--weights")));
                return Program.Success;
            case "fetch":
                break;
            default:
                throw new UsageException("weights takes a subcommand: fetch [--from DIR] [--to DIR], or path.");
        }
        if (a.Positional.Count > 1) throw new UsageException("weights fetch takes no other arguments.");
        string to = a.Value("--to") ?? WeightsResolver.CacheDirectory;
        string? from = a.Value("--from");
        if (from is not null && !Directory.Exists(from)) throw new UsageException($"--from {from}: no such folder.");
        AtomicFiles.RequireWritableDirectory(to);

        var weights = Path.Combine(to, WeightsLoader.FileName);
        if (File.Exists(weights) && Verified(weights) is null)
            stdout.WriteLine($"{weights}: already here and verified.");
        else
        {
            var source = from is null ? null : Path.Combine(from, WeightsLoader.FileName);
            if (source is not null)
            {
                if (!File.Exists(source) && !IsLink(source)) throw new FileNotFoundException($"--from {from}: it holds no {WeightsLoader.FileName}.");
                // Type, size and checksum before a byte is copied: a FIFO, /dev/zero or a huge sparse file
                // in its place must neither block nor fill the disk.
                if (Verified(source) is { } why) throw new IOException($"{source}: {why}; nothing was copied.");
            }
            Place(weights, source, OfficialUrl, stderr, cancellation, file => Verified(file));
            stdout.WriteLine($"{weights}: verified and in place.");
        }

        // The labels are built into the library: a labels file is only an override, so failing to get one is a note, not a failure.
        var labels = Path.Combine(to, LabelsName);
        if (!File.Exists(labels))
        {
            var source = from is null ? null
                : new[] { Path.Combine(from, LabelsName), Path.Combine(from, "..", "labels", LabelsName) }.FirstOrDefault(File.Exists);
            try
            {
                Place(labels, source, LabelsUrl, stderr, cancellation, file =>
                {
                    try { ImageNetLabels.Load(file); return null; }
                    catch (FormatException e) { return e.Message; }
                });
                stdout.WriteLine($"{labels}: in place.");
            }
            catch (IOException e) when (!cancellation.IsCancellationRequested)
            {
                stderr.WriteLine($"note: {Terminal.Safe(e.Message)}");
                stderr.WriteLine("note: no labels file was placed; the ImageNet labels built into NativeIg.InceptionV1 are used (a labels file would only override them).");
            }
        }
        return Program.Success;
    }

    /// <summary>The largest caffemodel taken (the reader's own limit): a bigger file is refused before it is copied.</summary>
    private const long WeightsSizeLimit = 1L << 30;

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    /// <summary>
    /// Copies <paramref name="source"/> (or downloads <paramref name="url"/>) to a temporary name beside
    /// <paramref name="target"/>, checks it, and renames it into place; a failed check deletes it.
    /// </summary>
    private static void Place(string target, string? source, string url, TextWriter stderr, CancellationToken cancellation, Func<string, string?> problem)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.part");
        try
        {
            if (source is not null)
            {
                stderr.WriteLine($"Copying {Terminal.Safe(source)}");
                using var input = BoundedFile.OpenRegular(source, WeightsSizeLimit, Path.GetFileName(target), m => new IOException(m));
                using var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None);
                input.CopyToAsync(file, cancellation).GetAwaiter().GetResult();
            }
            else
            {
                stderr.WriteLine($"Downloading {url}");
                using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
                using var response = http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellation).GetAwaiter().GetResult();
                if (!response.IsSuccessStatusCode) throw new IOException($"{url}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}.");
                using var body = response.Content.ReadAsStream(cancellation);
                using var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None);
                body.CopyToAsync(file, cancellation).GetAwaiter().GetResult();
            }
            if (problem(temporary) is { } why) throw new IOException($"{(source ?? url)}: {why}; nothing was written to {target}.");
            File.Move(temporary, target, overwrite: true);
        }
        catch (HttpRequestException e) { throw new IOException($"{url}: the download failed ({e.Message}). Copy the file from a machine that has it and use --from DIR.", e); }
        catch (TaskCanceledException e) when (!cancellation.IsCancellationRequested) { throw new IOException($"{url}: the download timed out. Copy the file from a machine that has it and use --from DIR.", e); }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Null when the file is one of the known GoogLeNet files, else what is wrong.</summary>
    private static string? Verified(string path)
    {
        FileStream stream;
        try { stream = BoundedFile.OpenRegular(path, WeightsSizeLimit, "caffemodel", m => new IOException(m)); }
        catch (IOException e) { return e.Message; }
        using var _ = stream;
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (sha256 == WeightsLoader.KnownSha256) return null;
        stream.Position = 0;
        var sha1 = Convert.ToHexStringLower(SHA1.HashData(stream));
        if (sha1 == WeightsLoader.OfficialSha1) return null;
        return $"SHA-256 {sha256} / SHA-1 {sha1} is neither known GoogLeNet file (a damaged or different file)";
    }
}

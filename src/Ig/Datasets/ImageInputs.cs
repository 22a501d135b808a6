using NativeIg.Tensors.IO;

namespace NativeIg.Ig;

/// <summary>One image of a run: where it is read from, and the name that keys its outputs and report line.</summary>
/// <param name="Path">The file to read.</param>
/// <param name="Name">A stable relative name (forward slashes): the output folder under the run's folder, the report's key, what shards hash.</param>
public sealed record ImageInput(string Path, string Name);

/// <summary>Expands what a user names — files, folders (recursive), globs — into a sorted, de-duplicated image list.</summary>
public static class ImageInputs
{
    /// <summary>The extensions a folder or glob contributes (a file named on its own is taken whatever its extension).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".npy"];

    /// <summary>Folders deeper than this below a folder given are not entered (and are named in the notes).</summary>
    public const int MaxFolderDepth = 64;

    /// <summary>Entries (files and folders) one run lists at most; past this the listing stops with a note.</summary>
    public const int MaxEntries = 1_000_000;

    /// <summary>
    /// Files as given (named by their file name); a folder's image files at any depth (named by the folder — as given when relative,
    /// its own name when absolute — plus their path inside it); a glob (<c>*</c>, <c>?</c> in the last part:
    /// <c>photos/*.jpg</c>). Sorted by name, each once; two different files that would get one name are an
    /// <see cref="ArgumentException"/>, a glob that matches nothing a <see cref="FileNotFoundException"/>.
    /// </summary>
    public static IReadOnlyList<ImageInput> Expand(IEnumerable<string> specs) => Expand(specs, outputFolder: null, skipped: null);

    /// <summary>
    /// <see cref="Expand(IEnumerable{string})"/>, leaving out <paramref name="outputFolder"/> (a run's own
    /// outputs are never its inputs, however the folders are nested) and telling <paramref name="skipped"/>
    /// what a folder held that is not taken: hidden and unreadable entries, links to a folder already listed
    /// (a link loop is listed once), folders deeper than <see cref="MaxFolderDepth"/>, anything past
    /// <see cref="MaxEntries"/>. Folder links are followed once each (by their real path).
    /// </summary>
    public static IReadOnlyList<ImageInput> Expand(IEnumerable<string> specs, string? outputFolder, Action<string>? skipped)
    {
        ArgumentNullException.ThrowIfNull(specs);
        skipped ??= _ => { };
        var byName = new SortedDictionary<string, ImageInput>(StringComparer.Ordinal);
        var byFolder = new Dictionary<string, ImageInput>(StringComparer.Ordinal);
        void Add(string path, string name)
        {
            if (byName.TryGetValue(name, out var other) && Path.GetFullPath(other.Path) != Path.GetFullPath(path))
                throw new ArgumentException($"{other.Path} and {path} would both be named '{name}' in the run; give them from folders with different names.");
            if (byFolder.TryGetValue(FolderName(name), out other) && Path.GetFullPath(other.Path) != Path.GetFullPath(path))
                throw new ArgumentException($"{other.Path} and {path} would both write their outputs to '{FolderName(name)}/' (the name without its extension); rename one.");
            if (byName.TryAdd(name, new ImageInput(path, name))) byFolder[FolderName(name)] = byName[name];
        }
        string? excluded = outputFolder is null ? null : RealPath.Resolve(outputFolder);
        int entries = 0;
        foreach (var spec in specs)
        {
            if (Directory.Exists(spec))
            {
                foreach (var file in ListFolder(spec, excluded, skipped, ref entries))
                    if (IsImage(file)) Add(file, Normalize(Path.Combine(NameOf(spec), Path.GetRelativePath(spec, file))));
            }
            else if (spec.IndexOfAny(['*', '?']) >= 0)
            {
                var folder = Path.GetDirectoryName(spec) is { Length: > 0 } d ? d : ".";
                if (folder.IndexOfAny(['*', '?']) >= 0) throw new ArgumentException($"{spec}: wildcards are supported in the file name only.");
                if (!Directory.Exists(folder)) throw new FileNotFoundException($"{spec}: the folder {folder} does not exist.");
                int before = byName.Count;
                foreach (var file in Directory.EnumerateFiles(folder, Path.GetFileName(spec)))
                    if (IsImage(file) && !IsInside(file, excluded)) Add(file, Normalize(Path.Combine(NameOf(folder), Path.GetFileName(file))));
                if (byName.Count == before) throw new FileNotFoundException($"{spec}: no image matches.");
            }
            else Add(spec, Normalize(Path.GetFileName(spec))); // a file given by itself: its file name, as for one image
        }
        return byName.Values.ToArray();
    }

    /// <summary>
    /// The one rule for where an image's outputs go, below the run's folder (<c>ig-out/</c> by default, for
    /// one image and for many): its name in the run without the file's extension. A file given by itself is
    /// named by its file name (<c>photos/fireboat.jpg</c> → <c>fireboat</c>), a file found in a folder by the
    /// folder's name and its path inside it (<c>photos/boats/a.png</c> → <c>photos/boats/a</c>).
    /// </summary>
    public static string FolderName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalized = Normalize(name);
        int slash = normalized.LastIndexOf('/');
        var file = normalized[(slash + 1)..];
        var stem = Path.GetFileNameWithoutExtension(file);
        if (stem.Length == 0) stem = file;
        return slash < 0 ? stem : normalized[..(slash + 1)] + stem;
    }

    /// <summary>
    /// A folder's files at any depth, in name order, walked without recursion: each folder is entered once
    /// by its real path (links resolved), so links to "." or ".." cannot loop; the depth and the entry count are bounded.
    /// </summary>
    internal static List<string> ListFolder(string root, string? excluded, Action<string> skipped, ref int entries, Func<string, bool>? take = null)
    {
        var files = new List<string>();
        var visited = new HashSet<string>(StringComparer.Ordinal) { RealPath.Resolve(root) };
        var pending = new Stack<(string Folder, int Depth)>();
        pending.Push((root, 0));
        var options = new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0 };
        while (pending.Count > 0)
        {
            var (folder, depth) = pending.Pop();
            string[] children;
            try { children = Directory.GetFileSystemEntries(folder, "*", options); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                skipped($"{folder}: cannot be listed ({e.Message})");
                continue;
            }
            Array.Sort(children, StringComparer.Ordinal);
            var subfolders = new List<string>();
            foreach (var child in children)
            {
                if (++entries > MaxEntries)
                {
                    skipped($"{folder}: the listing stopped after {MaxEntries:N0} entries");
                    pending.Clear();
                    break;
                }
                var name = Path.GetFileName(child);
                if (name.StartsWith('.'))
                {
                    skipped($"{child}: hidden, not taken");
                    continue;
                }
                if (Directory.Exists(child))
                {
                    string real;
                    try { real = RealPath.Resolve(child); }
                    catch (IOException e) { skipped($"{child}: {e.Message}"); continue; }
                    if (excluded is not null && (real == excluded || IsUnder(real, excluded)))
                        skipped($"{child}: the run's output folder, not taken");
                    else if (!visited.Add(real))
                        skipped($"{child}: a link to a folder already listed ({real}), not followed again");
                    else if (depth + 1 > MaxFolderDepth)
                        skipped($"{child}: deeper than {MaxFolderDepth} folders, not entered");
                    else subfolders.Add(child);
                }
                else if (take?.Invoke(child) ?? IsImage(child))
                {
                    if (!File.Exists(child)) skipped($"{child}: a link to nothing, not taken");
                    else files.Add(child);
                }
            }
            for (int i = subfolders.Count - 1; i >= 0; i--) pending.Push((subfolders[i], depth + 1));
        }
        return files;
    }

    private static bool IsInside(string file, string? folder) => folder is not null && IsUnder(RealPath.Resolve(file), folder);

    /// <summary>Whether the resolved <paramref name="real"/> lies below the resolved <paramref name="folder"/>.</summary>
    private static bool IsUnder(string real, string folder) => real.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>A folder's name in the run: as given when relative ("photos/2024"), its own name when absolute ("/data/photos" → "photos").</summary>
    private static string NameOf(string folder) =>
        Path.IsPathRooted(folder) ? Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)) is { Length: > 0 } n ? n : "root" : folder;

    private static bool IsImage(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>A relative, forward-slash name without "./" or ".." parts, usable as a folder name.</summary>
    internal static string Normalize(string path)
    {
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").Select(p => p == ".." ? "_up_" : p);
        var name = string.Join('/', parts);
        return name.Length == 0 ? "image" : name;
    }
}

/// <summary>
/// A deterministic 1/N of the inputs for shard K: an image belongs to shard FNV-1a(name) mod N, so the
/// split depends on the names only (not on their order, the machine or the run), and N shards together
/// cover every image once.
/// </summary>
/// <param name="Index">K, from 0.</param>
/// <param name="Count">N.</param>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole input (shard 0 of 1).</summary>
    public static Shard All => new(0, 1);

    /// <summary>Whether <paramref name="name"/> belongs to this shard.</summary>
    public bool Owns(string name)
    {
        ulong hash = 14695981039346656037;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(name)) hash = (hash ^ b) * 1099511628211;
        return (int)(hash % (ulong)Count) == Index;
    }

    /// <summary>"K/N" with 0 ≤ K &lt; N ≤ 100000; an <see cref="ArgumentException"/> otherwise.</summary>
    public static Shard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out int k) && int.TryParse(parts[1], out int n) && n is >= 1 and <= 100_000 && k >= 0 && k < n)
            return new Shard(k, n);
        throw new ArgumentException($"A shard is K/N with 0 ≤ K < N ≤ 100000 (e.g. 0/4), got '{text}'.");
    }

    /// <summary>
    /// The shard a batch scheduler assigned: a Kubernetes Indexed Job's JOB_COMPLETION_INDEX (with
    /// <paramref name="shards"/> as N), else a Slurm job array's SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT
    /// (task ids from SLURM_ARRAY_TASK_MIN on); null when neither is set.
    /// </summary>
    public static Shard? FromEnvironment(int? shards, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment("JOB_COMPLETION_INDEX") is { } index)
        {
            if (shards is null) throw new ArgumentException("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give the number of shards (the Job's completions) too.");
            return Parse($"{index}/{shards}");
        }
        if (environment("SLURM_ARRAY_TASK_ID") is { } task && environment("SLURM_ARRAY_TASK_COUNT") is { } count)
        {
            int min = int.TryParse(environment("SLURM_ARRAY_TASK_MIN"), out int m) ? m : 0;
            if (!int.TryParse(task, out int id)) throw new ArgumentException($"SLURM_ARRAY_TASK_ID is '{task}', not a number.");
            return Parse($"{id - min}/{count}");
        }
        return null;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Index}/{Count}";
}

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NativeIg.Ig;

/// <summary>
/// The one JSON form of NativeIg's results (report.jsonl, result.json, and every `--json` line of the
/// command line): its schema version and its writer settings. Text is written as it is (a "+" stays "+",
/// not "\u002B"); NaN and infinities are the strings "NaN", "Infinity", "-Infinity".
/// </summary>
public static class ExplanationJson
{
    /// <summary>The schema version every object carries first as <c>"schema_version"</c>; raised when a field changes meaning or goes.</summary>
    public const int SchemaVersion = 1;

    /// <summary>The serializer settings of every result written.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = false,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // Results are data files and terminal lines, never pasted into HTML unescaped (the gallery escapes its own text).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

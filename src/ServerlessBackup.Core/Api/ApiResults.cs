using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerlessBackup.Api;

/// <summary>JSON answers and RFC 9457 problem details.</summary>
internal static class ApiResults
{
    public static readonly JsonSerializerOptions Json = new(SbkJson.Web(stringEnums: true))
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly Dictionary<string, string> NoHeaders = [];

    public static ApiResponse Ok<T>(T body, int status = 200, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, JsonSerializer.SerializeToUtf8Bytes(body, Json.Info<T>()), "application/json; charset=utf-8", headers ?? NoHeaders);

    /// <summary>A problem: <c>type</c> is a stable URN naming the problem, <c>detail</c> a sentence saying what to change.</summary>
    public static ApiResponse Problem(int status, string type, string title, string detail, IReadOnlyDictionary<string, string>? headers = null, IReadOnlyDictionary<string, string>? extensions = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["type"] = "urn:sbk:problem:" + type,
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
        };
        if (extensions is not null)
        {
            foreach (var (name, value) in extensions)
            {
                body[name] = value;
            }
        }

        return new ApiResponse(status, JsonSerializer.SerializeToUtf8Bytes(body, Json.Info<Dictionary<string, object?>>()), "application/problem+json; charset=utf-8", headers ?? NoHeaders);
    }
}

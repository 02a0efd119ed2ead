using Microsoft.AspNetCore.Mvc;
using ServerlessBackup.Api;

namespace ServerlessBackup.Functions;

/// <summary>An API answer as an ASP.NET Core action result, written by the same adapter as <c>sbk serve</c>'s.</summary>
public sealed class ApiActionResult(ApiResponse response) : IActionResult
{
    /// <summary>The API's answer.</summary>
    public ApiResponse Response { get; } = response;

    /// <inheritdoc />
    public Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return HttpApiAdapter.WriteAsync(context.HttpContext.Response, Response, context.HttpContext.RequestAborted);
    }
}

using System.Net;

namespace RaftPipeline.Hub.Http;

/// <summary>
/// Turns a failed Hub response into a <see cref="HubException"/> the way huggingface_hub's hf_raise_for_status reads
/// it (utils/_http.py): the <c>X-Error-Code</c> header names the case, <c>X-Error-Message</c> carries the server's text.
/// </summary>
public static class HubErrors
{
    public const string InvalidCredentials = "Invalid credentials in Authorization header";

    public static HubException FromResponse(HttpResponseMessage response, string repoId, string revision, string? file, bool hasToken)
    {
        var code = Header(response, "X-Error-Code");
        var serverMessage = Header(response, "X-Error-Message");
        var status = (int)response.StatusCode;
        var said = serverMessage is null ? "" : $" (the Hub said: {serverMessage})";
        var loginHint = hasToken
            ? "the token in use (HF_TOKEN or the token file) has no access to it"
            : "no token was given: set HF_TOKEN or log in (`hf auth login` writes $HF_HOME/token)";

        if (code == "RevisionNotFound")
            return new HubException(HubErrorKind.RevisionNotFound, $"revision '{revision}' not found in model repository {repoId}{said}", status);
        if (code == "EntryNotFound")
            return new HubException(HubErrorKind.EntryNotFound, $"file '{file}' not found in {repoId} at revision '{revision}'{said}", status);
        if (code == "GatedRepo")
            return new HubException(HubErrorKind.GatedRepo,
                $"model {repoId} is gated: accept its conditions on {repoId}'s Hub page, then use a token of that account; {loginHint}{said}", status);
        if (status == 401 && serverMessage == InvalidCredentials)
            return new HubException(HubErrorKind.Unauthorized, $"the Hub refused the token for {repoId}: {serverMessage}; check HF_TOKEN or the token file", status);
        if (code == "RepoNotFound" || status == 401)
            // The Hub answers 401 for a private repository as for a missing one, so both are said.
            return new HubException(HubErrorKind.RepoNotFound,
                $"model repository {repoId} not found on the Hub, or it is private and {loginHint}{said}", status);
        if (status == 403)
            return new HubException(HubErrorKind.GatedRepo, $"access to {repoId} is forbidden (403); {loginHint}{said}", status);
        if (status == 404)
            return new HubException(HubErrorKind.EntryNotFound, $"{(file is null ? repoId : $"'{file}' of {repoId}")} not found (404){said}", status);
        return new HubException(HubErrorKind.Network,
            $"the Hub answered {status} {response.ReasonPhrase} for {repoId}{(file is null ? "" : $" '{file}'")}{said}", status);
    }

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out var content) ? content.FirstOrDefault() : null;

    public static bool IsRedirect(HttpStatusCode status) =>
        status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}

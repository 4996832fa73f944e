/**
 * Twilio's list paging (2010-04-01 API): PageSize (default 50, at most 1000),
 * Page (the index, "simply for client state") and PageToken, which the API
 * writes into next_page_uri and previous_page_uri. The SDK follows those URIs
 * verbatim, so they carry the filters of the first request.
 *
 * Tokens here are "PA" + the SID of the last item of the page before (next
 * pages) or "PB" + the first item of the page after (previous pages). Anchored
 * to an item rather than an offset, a page stays put when new items arrive at
 * the top of a newest-first list between two requests.
 */

export interface PageRequest {
  /** The list's path, e.g. /2010-04-01/Accounts/AC.../Messages.json */
  path: string;
  /** The filters given, in the order they came, to be carried into every page URI. */
  filters: [string, string][];
  pageSize?: string | undefined;
  page?: string | undefined;
  pageToken?: string | undefined;
}

export class PageTokenError extends Error {}

export function pageOf<T extends { sid: string }>(key: string, items: readonly T[], request: PageRequest) {
  const pageSize = request.pageSize === undefined ? 50 : Number(request.pageSize);
  const page = request.page === undefined ? 0 : Number(request.page);
  const token = request.pageToken;

  let from = page * pageSize;
  let until = from + pageSize;
  if (token !== undefined) {
    const anchor = items.findIndex((item) => item.sid === token.slice(2));
    if (anchor < 0 || !/^P[AB]/.test(token)) throw new PageTokenError(`Invalid PageToken ${token}`);
    [from, until] = token.startsWith("PA") ? [anchor + 1, anchor + 1 + pageSize] : [Math.max(0, anchor - pageSize), anchor];
  }
  const slice = items.slice(from, until);
  const to = from + slice.length;

  const uri = (pageIndex: number, pageToken?: string) => {
    const query = new URLSearchParams(request.filters);
    query.set("PageSize", String(pageSize));
    query.set("Page", String(pageIndex));
    if (pageToken) query.set("PageToken", pageToken);
    return `${request.path}?${query.toString()}`;
  };
  const last = slice.at(-1);
  const first = slice[0];
  const start = page * pageSize;
  return {
    [key]: slice,
    end: slice.length === 0 ? start : start + slice.length - 1,
    first_page_uri: uri(0),
    next_page_uri: last && to < items.length ? uri(page + 1, `PA${last.sid}`) : null,
    page,
    page_size: pageSize,
    previous_page_uri: first && from > 0 && page > 0 ? uri(page - 1, `PB${first.sid}`) : null,
    start,
    uri: uri(page, token),
  };
}

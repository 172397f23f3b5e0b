package loyalty

import (
	"context"
	"fmt"
	"iter"
	"reflect"
)

// MaxItemsPerPage is the largest page the API serves.
const MaxItemsPerPage = 1000

// ListOptions selects one page of a list. Zero values leave the API's defaults (page 1, 30
// items per page).
type ListOptions struct {
	// Page is 1-based.
	Page int `url:"page,omitempty"`
	// ItemsPerPage is 1 to MaxItemsPerPage.
	ItemsPerPage int `url:"itemsPerPage,omitempty"`
}

func (o *ListOptions) listOptions() *ListOptions { return o }

// pager is what every list options struct is, through its embedded ListOptions.
type pager interface{ listOptions() *ListOptions }

func (o *ListOptions) validate() error {
	if o.Page < 0 {
		return invalid("page", "must be 1 or more")
	}
	if o.ItemsPerPage < 0 || o.ItemsPerPage > MaxItemsPerPage {
		return invalid("itemsPerPage", "must be between 1 and 1000")
	}
	return nil
}

// list fetches one page into a slice. opts may be a nil pointer.
func list[T any, O any, PO interface {
	*O
	pager
}](ctx context.Context, c *Client, path string, opts PO) ([]T, *Response, error) {
	var q any
	per := 0
	if opts != nil {
		if err := opts.listOptions().validate(); err != nil {
			return nil, nil, err
		}
		q, per = opts, opts.listOptions().ItemsPerPage
	}
	var items []T
	resp, err := c.do(ctx, &call{method: "GET", path: path, query: q, out: &items, items: per})
	if err != nil {
		return nil, resp, err
	}
	return items, resp, nil
}

// paginate walks a list lazily. fetchPage is called with the page number to load, only when
// the consumer has used every item before it. The walk ends on an empty page, once the meta's
// totalItems is reached, at the consumer's break, or after yielding an error once: the
// request's, or ErrNoProgress.
func paginate[T any](ctx context.Context, firstPage int, fetchPage func(ctx context.Context, page int) ([]T, *Response, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		page := max(firstPage, 1)
		var prev []T
		for {
			items, resp, err := fetchPage(ctx, page)
			if err == nil && len(items) > 0 {
				err = checkProgress(resp, page, items, prev)
			}
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range items {
				if !yield(item, nil) {
					return
				}
			}
			if len(items) == 0 || lastPage(resp, len(items)) {
				return
			}
			prev = items
			page++
		}
	}
}

// samePage reports a page equal to the one before. Its first and last items settle almost
// every case, so a walk of 1,000-card pages does not compare 1,000 cards each time.
func samePage[T any](items, prev []T) bool {
	if len(prev) == 0 || len(items) != len(prev) {
		return false
	}
	n := len(items) - 1
	return reflect.DeepEqual(items[0], prev[0]) && reflect.DeepEqual(items[n], prev[n]) && reflect.DeepEqual(items, prev)
}

// checkProgress refuses a page that does not advance the walk.
func checkProgress[T any](resp *Response, page int, items, prev []T) error {
	var problem string
	m := resp.Meta
	switch {
	case m != nil && m.CurrentPage >= 1 && m.CurrentPage != page:
		problem = fmt.Sprintf("asked for page %d, the server answered page %d", page, m.CurrentPage)
	case m != nil && m.ItemsPerPage >= 1 && page > 1 && (page-1)*m.ItemsPerPage >= m.TotalItems:
		problem = fmt.Sprintf("page %d has items past the %d the server announced", page, m.TotalItems)
	case samePage(items, prev):
		problem = fmt.Sprintf("page %d repeats page %d", page, page-1)
	default:
		return nil
	}
	path := ""
	if resp.Response != nil && resp.Request != nil {
		path = resp.Request.URL.Path
	}
	return fmt.Errorf("%w: GET %s: %s", ErrNoProgress, path, problem)
}

// lastPage trusts the meta, not the page's length: the API has been seen sending pages of
// another size than asked.
func lastPage(resp *Response, n int) bool {
	m := resp.Meta
	if m == nil || m.CurrentPage < 1 || m.ItemsPerPage < 1 {
		return false // no usable meta: go on until an empty page
	}
	return (m.CurrentPage-1)*m.ItemsPerPage+n >= m.TotalItems
}

// walk is paginate for a list whose options embed ListOptions. It copies the caller's options
// when called, so the caller may reuse theirs, and each range over the sequence starts afresh
// from the page the options name.
func walk[T any, O any, PO interface {
	*O
	pager
}](ctx context.Context, c *Client, path string, opts PO) iter.Seq2[T, error] {
	var base O
	if opts != nil {
		base = *opts
	}
	return func(yield func(T, error) bool) {
		o := base
		lo := PO(&o).listOptions()
		paginate(ctx, lo.Page, func(ctx context.Context, page int) ([]T, *Response, error) {
			lo.Page = page
			return list[T](ctx, c, path, PO(&o))
		})(yield)
	}
}

// failed is a sequence that yields err once.
func failed[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}

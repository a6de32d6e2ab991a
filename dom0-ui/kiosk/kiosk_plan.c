#include "kiosk_plan.h"

#include <stdio.h>
#include <string.h>

static bool copy_name(char dst[KIOSK_PLAN_NAME], json_object *v)
{
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        if (!s || !s[0] || strlen(s) >= KIOSK_PLAN_NAME)
                return false;
        memcpy(dst, s, strlen(s) + 1);
        return true;
}

static int parse_kiosk(json_object *k, struct kiosk_plan *p, char *err, size_t errlen)
{
        json_object *shows, *sw;
        if (!json_object_object_get_ex(k, "shows", &shows) ||
            !json_object_is_type(shows, json_type_array) ||
            !json_object_object_get_ex(k, "switches", &sw) ||
            !json_object_is_type(sw, json_type_array)) {
                snprintf(err, errlen, "phase-status: kiosk: expected shows and switches lists");
                return -1;
        }
        for (size_t i = 0; i < json_object_array_length(shows); i++) {
                if (p->n_shows == KIOSK_PLAN_MAX_SHOWS ||
                    !copy_name(p->shows[p->n_shows++], json_object_array_get_idx(shows, i))) {
                        snprintf(err, errlen, "phase-status: kiosk: shows[%zu] is not usable", i);
                        return -1;
                }
        }
        for (size_t i = 0; i < json_object_array_length(sw); i++) {
                json_object *pair = json_object_array_get_idx(sw, i), *f, *t;
                if (p->n_switches == KIOSK_PLAN_MAX_SWITCHES ||
                    !json_object_object_get_ex(pair, "from", &f) ||
                    !json_object_object_get_ex(pair, "to", &t) ||
                    !copy_name(p->from[p->n_switches], f) || !copy_name(p->to[p->n_switches], t)) {
                        snprintf(err, errlen, "phase-status: kiosk: switches[%zu] is not usable",
                                 i);
                        return -1;
                }
                p->n_switches++;
        }
        return 0;
}

int kiosk_plan_read(struct tandem_client *cl, struct kiosk_plan *p, char *err, size_t errlen)
{
        memset(p, 0, sizeof(*p));
        json_object *res = NULL, *v;
        struct tandem_error terr;
        if (tandem_call(cl, "phase-status", NULL, &res, &terr) < 0) {
                if (!strcmp(terr.code, TANDEM_E_UNKNOWN))
                        return 0; /* a tandemd without the migration kit: no plan */
                snprintf(err, errlen, "phase-status: %s", terr.message);
                return -1;
        }
        int rc = 0;
        if (json_object_object_get_ex(res, "phase", &v))
                p->phase = json_object_get_int(v);
        if (json_object_object_get_ex(res, "applying", &v) &&
            json_object_is_type(v, json_type_string))
                p->applying = true;
        if (json_object_object_get_ex(res, "title", &v) && json_object_is_type(v, json_type_string))
                snprintf(p->title, sizeof(p->title), "%s", json_object_get_string(v));
        if (p->phase > 0 && json_object_object_get_ex(res, "kiosk", &v))
                rc = parse_kiosk(v, p, err, errlen);
        json_object_put(res);
        return rc;
}

bool kiosk_plan_active(const struct kiosk_plan *p)
{
        return p->phase > 0 && p->n_shows > 0;
}

bool kiosk_plan_equal(const struct kiosk_plan *a, const struct kiosk_plan *b)
{
        if (a->phase != b->phase || a->n_shows != b->n_shows || a->n_switches != b->n_switches)
                return false;
        for (size_t i = 0; i < a->n_shows; i++)
                if (strcmp(a->shows[i], b->shows[i]))
                        return false;
        for (size_t i = 0; i < a->n_switches; i++)
                if (strcmp(a->from[i], b->from[i]) || strcmp(a->to[i], b->to[i]))
                        return false;
        return true;
}

int kiosk_plan_index(const struct kiosk_plan *p, const char *name)
{
        for (size_t i = 0; i < p->n_shows; i++)
                if (!strcmp(p->shows[i], name))
                        return (int)i;
        return -1;
}

static bool allows(const struct kiosk_plan *p, const char *from, const char *to)
{
        for (size_t i = 0; i < p->n_switches; i++)
                if (!strcmp(p->from[i], from) && !strcmp(p->to[i], to))
                        return true;
        return false;
}

int kiosk_plan_next(const struct kiosk_plan *p, int current)
{
        if (current < 0 || (size_t)current >= p->n_shows)
                return -1;
        for (size_t step = 1; step < p->n_shows; step++) {
                size_t i = ((size_t)current + step) % p->n_shows;
                if (allows(p, p->shows[current], p->shows[i]))
                        return (int)i;
        }
        return -1;
}

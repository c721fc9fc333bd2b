#include "proxy_h2.h"
int ph2_adopt(proxy_wctx *w, struct bufferevent *bev, const char *peer, const char *proto)
{
    bufferevent_free(bev);
    return -1;
}

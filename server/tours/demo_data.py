"""Demo guided tours of Wenzhou for development databases (approximate facts and positions).

Stops name a venue of the demo catalogue by code where they are one, and give their own
coordinates where they are a point inside it or along the way. Audio and panorama links are
placeholders under /static, like the catalogue's photos.
"""

from __future__ import annotations


def _audio(tour: str, position: int) -> dict[str, str]:
    return {
        "zh-CN": f"/static/audio/tours/{tour}/{position}-zh.mp3",
        "en": f"/static/audio/tours/{tour}/{position}-en.mp3",
    }


DEMO_TOURS: list[dict] = [
    {
        "code": "jiangxin-islet-walk",
        "venue": "jiangxin-islet",
        "night": False,
        "starts_at": "09:00",
        "name": {
            "zh-CN": "江心屿诗岛漫步",
            "en": "Jiangxin Islet: a walk round the Isle of Poetry",
        },
        "summary": {
            "zh-CN": "从渡口上岛，看东西双塔、江心寺与文天祥祠，约两小时走完全岛精华。",
            "en": (
                "From the ferry landing to the twin pagodas, Jiangxin Temple and the Wen "
                "Tianxiang memorial: the best of the islet in about two hours."
            ),
        },
        "stops": [
            {
                "name": {"zh-CN": "江心屿渡口", "en": "Ferry landing"},
                "at": (28.0316, 120.6480),
                "minutes": 5,
                "narration": {
                    "zh-CN": (
                        "从望江路江心码头乘渡轮五分钟即到。瓯江在此一分为二，"
                        "江心屿就坐落在江流中央。"
                    ),
                    "en": (
                        "The ferry from Jiangxin Pier on Wangjiang Road takes five minutes. The "
                        "Ou River splits in two here, and the islet sits in the middle of it."
                    ),
                },
            },
            {
                "name": {"zh-CN": "文天祥祠", "en": "Wen Tianxiang Memorial Hall"},
                "at": (28.0332, 120.6492),
                "minutes": 15,
                "narration": {
                    "zh-CN": (
                        "南宋德祐二年（1276年），文天祥脱险南下，曾在江心寺停留，"
                        "图谋复兴宋室。后人建祠纪念这位写下“人生自古谁无死，留取丹心照汗青”的忠臣。"
                    ),
                    "en": (
                        "In 1276 Wen Tianxiang, escaping the Yuan armies, stopped at the islet "
                        "on his way south to rally the Song court. The hall honours the loyal "
                        "minister who wrote that every life must end, but a loyal heart shines "
                        "on in history."
                    ),
                },
            },
            {
                "name": {"zh-CN": "东塔", "en": "East Pagoda"},
                "at": (28.0341, 120.6528),
                "minutes": 10,
                "panorama": "/static/panorama/jiangxin-east-pagoda.jpg",
                "narration": {
                    "zh-CN": (
                        "东塔始建于唐代，塔檐在清末被拆去，如今塔顶长着一棵古榕，"
                        "成了江心屿最奇特的景致。"
                    ),
                    "en": (
                        "The East Pagoda was first built in the Tang dynasty. Its eaves were "
                        "stripped in the late Qing, and an old banyan now grows from its top: "
                        "the islet's strangest sight."
                    ),
                },
            },
            {
                "name": {"zh-CN": "英国驻温州领事馆旧址", "en": "Former British Consulate"},
                "at": (28.0347, 120.6534),
                "minutes": 10,
                "narration": {
                    "zh-CN": (
                        "1876年温州开埠后，英国在江心屿东端设立领事馆，现存的西式建筑建于1894年。"
                    ),
                    "en": (
                        "After Wenzhou opened as a treaty port in 1876, Britain set up its "
                        "consulate at the islet's eastern end; the building you see dates from "
                        "1894."
                    ),
                },
            },
            {
                "name": {"zh-CN": "江心寺", "en": "Jiangxin Temple"},
                "at": (28.0333, 120.6465),
                "minutes": 20,
                "narration": {
                    "zh-CN": (
                        "江心寺山门的叠字联“云朝朝朝朝朝朝朝散，潮长长长长长长长消”"
                        "利用“朝”“长”的多音多义，读法有十余种，是游客必读的一副对联。"
                    ),
                    "en": (
                        "The temple gate bears a famous couplet built from one character "
                        "repeated again and again. Because each can be read in two ways (morning "
                        "or tide, long or rising) it can be read more than ten ways."
                    ),
                },
            },
            {
                "name": {"zh-CN": "浩然楼", "en": "Haoran Tower"},
                "at": (28.0326, 120.6440),
                "minutes": 15,
                "narration": {
                    "zh-CN": (
                        "浩然楼以唐代诗人孟浩然命名，他曾乘舟来到江心屿，留下“众山遥对酒，"
                        "孤屿共题诗”的诗句。"
                    ),
                    "en": (
                        "Named after the Tang poet Meng Haoran, who came to the islet by boat "
                        "and wrote of drinking to the distant hills and writing poems together "
                        "on the lonely isle."
                    ),
                },
            },
            {
                "name": {"zh-CN": "西塔", "en": "West Pagoda"},
                "at": (28.0330, 120.6412),
                "minutes": 10,
                "panorama": "/static/panorama/jiangxin-west-pagoda.jpg",
                "narration": {
                    "zh-CN": (
                        "西塔建于北宋开宝二年（969年），与东塔隔寺相望，"
                        "千百年来为瓯江上的船只指引航向。"
                    ),
                    "en": (
                        "The West Pagoda was built in 969 under the Northern Song. Facing the "
                        "East Pagoda across the temple, the pair guided boats on the Ou River "
                        "for a thousand years."
                    ),
                },
            },
        ],
    },
    {
        "code": "yandang-day-route",
        "venue": "yandang-mountain",
        "night": False,
        "starts_at": "08:00",
        "name": {
            "zh-CN": "雁荡山一日游：灵峰、三折瀑、灵岩、大龙湫",
            "en": "Yandang Mountain in a day",
        },
        "summary": {
            "zh-CN": "雁荡“二灵一龙”一日走完：灵峰奇峰、三折瀑、灵岩飞渡和大龙湫瀑布。",
            "en": (
                "Yandang's classic trio in one day: the peaks of Lingfeng, the Three-Tier "
                "Falls, the cliffs of Lingyan and the great Dalongqiu waterfall."
            ),
        },
        "stops": [
            {
                "name": {"zh-CN": "灵峰", "en": "Lingfeng (Spirit Peak)"},
                "venue": "yandang-mountain",
                "at": (28.3810, 121.0800),
                "minutes": 90,
                "narration": {
                    "zh-CN": (
                        "灵峰以合掌峰为中心，峰间裂隙中藏着九层楼阁的观音洞，"
                        "是雁荡山最具代表性的景区。"
                    ),
                    "en": (
                        "Lingfeng centres on the Palms-Together Peak; in the cleft between its "
                        "two halves hides Guanyin Cave, with a nine-storey temple built inside."
                    ),
                },
            },
            {
                "name": {"zh-CN": "三折瀑", "en": "Three-Tier Falls"},
                "venue": "yandang-mountain",
                "at": (28.3920, 121.0680),
                "minutes": 60,
                "narration": {
                    "zh-CN": (
                        "一条溪水从山顶分三级跌落，上折、中折、下折各有姿态，"
                        "中折瀑可以走到水帘背后。"
                    ),
                    "en": (
                        "One stream drops from the heights in three tiers, each with its own "
                        "character; at the middle tier you can walk behind the curtain of water."
                    ),
                },
            },
            {
                "name": {"zh-CN": "灵岩", "en": "Lingyan (Spirit Rock)"},
                "venue": "yandang-mountain",
                "at": (28.3700, 121.0550),
                "minutes": 90,
                "narration": {
                    "zh-CN": (
                        "灵岩寺背倚屏霞嶂，天柱峰与展旗峰左右对峙，"
                        "两峰之间的“灵岩飞渡”表演惊险刺激。"
                    ),
                    "en": (
                        "Lingyan Temple stands beneath a wall of cliffs between Heavenly Pillar "
                        "and Banner peaks; performers cross the gap between them on a rope high "
                        "above the valley."
                    ),
                },
            },
            {
                "name": {"zh-CN": "大龙湫", "en": "Dalongqiu Waterfall"},
                "venue": "yandang-mountain",
                "at": (28.3580, 121.0320),
                "minutes": 60,
                "narration": {
                    "zh-CN": (
                        "大龙湫落差约190米，是中国落差最大的瀑布之一，水量随季节变化，"
                        "风起时水雾如烟。"
                    ),
                    "en": (
                        "Dropping about 190 metres, Dalongqiu is one of China's highest "
                        "waterfalls; its flow changes with the seasons, and in the wind it "
                        "drifts like smoke."
                    ),
                },
            },
        ],
    },
    {
        "code": "yandang-lingfeng-night",
        "venue": "yandang-mountain",
        "night": True,
        "starts_at": "18:30",
        "name": {"zh-CN": "灵峰夜景", "en": "Lingfeng by night"},
        "summary": {
            "zh-CN": "入夜后灵峰群峰化作剪影，移步换景，“犀牛望月”“夫妻峰”逐一现身。",
            "en": (
                "After dark the peaks of Lingfeng become silhouettes that change as you walk: "
                "the Rhino Gazing at the Moon, the Husband and Wife Peaks and more."
            ),
        },
        "stops": [
            {
                "name": {"zh-CN": "灵峰景区入口", "en": "Lingfeng entrance"},
                "venue": "yandang-mountain",
                "at": (28.3800, 121.0815),
                "minutes": 5,
                "narration": {
                    "zh-CN": "夜游请带好手电，沿溪边步道慢行，抬头看山的轮廓。",
                    "en": (
                        "Bring a torch, follow the path along the stream, and look up at the "
                        "ridgeline."
                    ),
                },
            },
            {
                "name": {
                    "zh-CN": "合掌峰（夫妻峰）",
                    "en": "Palms-Together Peak (Husband and Wife)",
                },
                "venue": "yandang-mountain",
                "at": (28.3815, 121.0790),
                "minutes": 20,
                "narration": {
                    "zh-CN": (
                        "白天的合掌峰，到了夜里从这里看去，变成一对相依的夫妻，"
                        "这是灵峰夜景最有名的一幕。"
                    ),
                    "en": (
                        "By day it is two hands pressed together; at night, from this spot, it "
                        "becomes a couple leaning close: the best-known scene of Lingfeng at night."
                    ),
                },
            },
            {
                "name": {"zh-CN": "犀牛望月", "en": "Rhino Gazing at the Moon"},
                "venue": "yandang-mountain",
                "at": (28.3830, 121.0775),
                "minutes": 15,
                "narration": {
                    "zh-CN": "一块巨石仰首向天，月夜里宛如犀牛望月。",
                    "en": (
                        "A great rock raises its head to the sky, like a rhino gazing at the moon."
                    ),
                },
            },
        ],
    },
    {
        "code": "old-city-walk",
        "venue": None,
        "night": False,
        "starts_at": "09:30",
        "name": {
            "zh-CN": "温州古城漫步：从朔门到南塘",
            "en": "Old Wenzhou on foot: Shuomen to Nantang",
        },
        "summary": {
            "zh-CN": "从宋元古港走到五马街、县前头和谯楼，再沿塘河到南塘街，一路吃一路看。",
            "en": (
                "From the Song-era port through Wuma Street, Xianqiantou and the Drum Tower, "
                "then along the Tang River to Nantang Street, snacking on the way."
            ),
        },
        "stops": [
            {
                "name": {"zh-CN": "朔门古港遗址", "en": "Shuomen Ancient Port Site"},
                "at": (28.0245, 120.6565),
                "minutes": 20,
                "narration": {
                    "zh-CN": (
                        "这里发掘出宋元时期的码头、沉船和大量瓷器，"
                        "见证了温州作为海上丝绸之路港口的繁华。"
                    ),
                    "en": (
                        "Excavations here found Song and Yuan wharves, shipwrecks and heaps of "
                        "porcelain: proof of Wenzhou's busy days as a Maritime Silk Road port."
                    ),
                },
            },
            {
                "name": {"zh-CN": "五马街", "en": "Wuma Street"},
                "venue": "wuma-street",
                "minutes": 30,
                "narration": {
                    "zh-CN": (
                        "相传东晋书法家王羲之任永嘉郡守时，出行乘五马之车，街名由此而来。"
                        "街上的老字号长人馄饨、矮人松糕不可错过。"
                    ),
                    "en": (
                        "Legend says the calligrapher Wang Xizhi, governor here in the Eastern "
                        "Jin, rode out in a carriage of five horses, hence the name. Don't miss "
                        "the old wonton and song-cake shops."
                    ),
                },
            },
            {
                "name": {"zh-CN": "墨池坊", "en": "Ink Pond Lane"},
                "at": (28.0152, 120.6515),
                "minutes": 15,
                "narration": {
                    "zh-CN": "传说王羲之在此洗笔，池水尽黑，故名墨池。",
                    "en": (
                        "Wang Xizhi is said to have washed his brushes here until the pond ran "
                        "black."
                    ),
                },
            },
            {
                "name": {"zh-CN": "县前头", "en": "Xianqiantou"},
                "at": (28.0148, 120.6585),
                "minutes": 15,
                "narration": {
                    "zh-CN": "旧永嘉县衙前的街市，县前汤圆因此得名，至今仍是小吃聚集之地。",
                    "en": (
                        "The market street before the old Yongjia county yamen gave its name to "
                        "Xianqian tangyuan, and is still full of snack shops."
                    ),
                },
            },
            {
                "name": {"zh-CN": "谯楼", "en": "Drum Tower (Qiaolou)"},
                "at": (28.0105, 120.6545),
                "minutes": 15,
                "narration": {
                    "zh-CN": "谯楼是温州古城的鼓楼，旧时击鼓报时，城墙拆除后它成了古城格局的见证。",
                    "en": (
                        "The old city's drum tower once beat out the hours; with the walls gone, "
                        "it is one of the last marks of the walled town's layout."
                    ),
                },
            },
            {
                "name": {"zh-CN": "南塘街", "en": "Nantang Street"},
                "venue": "nantang-street",
                "minutes": 40,
                "narration": {
                    "zh-CN": (
                        "南塘街沿塘河而建，白墙黛瓦、廊桥相连，是品尝温州小吃、看塘河风景的好地方。"
                    ),
                    "en": (
                        "Built along the Tang River, Nantang Street's white walls, dark tiles "
                        "and covered bridges make it the place to taste Wenzhou snacks by the "
                        "water."
                    ),
                },
            },
        ],
    },
    {
        "code": "oujiang-night-walk",
        "venue": None,
        "night": True,
        "starts_at": "19:00",
        "name": {
            "zh-CN": "瓯江夜色·全域夜游",
            "en": "Wenzhou after dark: river lights and the Tang River",
        },
        "summary": {
            "zh-CN": "看江心屿双塔倒影，逛五马街夜市，再到南塘街坐塘河夜游船。",
            "en": (
                "See Jiangxin Islet's pagodas reflected in the river, stroll Wuma Street by "
                "night, then take the Tang River night cruise from Nantang Street."
            ),
        },
        "stops": [
            {
                "name": {
                    "zh-CN": "望江路观江心屿夜景",
                    "en": "Jiangxin Islet lights from Wangjiang Road",
                },
                "at": (28.0262, 120.6520),
                "minutes": 15,
                "narration": {
                    "zh-CN": "入夜后江心屿东西双塔亮灯，倒映在瓯江上，是温州最经典的夜景。",
                    "en": (
                        "At night the islet's twin pagodas light up and shimmer on the Ou "
                        "River: Wenzhou's classic night view."
                    ),
                },
            },
            {
                "name": {"zh-CN": "五马街夜市", "en": "Wuma Street at night"},
                "venue": "wuma-street",
                "minutes": 30,
                "narration": {
                    "zh-CN": "夜晚的五马街灯火通明，老字号和新潮小店比邻，适合边走边吃。",
                    "en": (
                        "Lit up at night, Wuma Street mixes old names with new shops: eat as you "
                        "stroll."
                    ),
                },
            },
            {
                "name": {"zh-CN": "南塘街", "en": "Nantang Street"},
                "venue": "nantang-street",
                "minutes": 40,
                "narration": {
                    "zh-CN": "夜色中的南塘街灯笼高挂，可在这里尝一碗县前汤圆或温州鱼丸当夜宵。",
                    "en": (
                        "Lanterns line Nantang Street at night: try Xianqian tangyuan or fish "
                        "balls for a late snack."
                    ),
                },
            },
            {
                "name": {"zh-CN": "塘河夜游", "en": "Tang River night cruise"},
                "venue": "tanghe-night-cruise",
                "minutes": 60,
                "narration": {
                    "zh-CN": "乘船沿温瑞塘河夜游，两岸灯光与古桥相映，船程约一小时。",
                    "en": (
                        "Cruise the Wenrui Tang River past lit-up banks and old bridges, about an "
                        "hour on the water."
                    ),
                },
            },
        ],
    },
]

# The islet's walk has recorded narration at every stop.
for _number, _stop in enumerate(DEMO_TOURS[0]["stops"], start=1):
    _stop["audio_url"] = _audio(DEMO_TOURS[0]["code"], _number)

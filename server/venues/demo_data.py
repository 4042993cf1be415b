"""Demo catalogue of real Wenzhou venues (approximate facts) for seeding development databases."""

SCENIC_FREE_RULES = [
    {
        "rule": "age_at_least",
        "value": 60,
        "discount": "half",
        "note": {
            "zh-CN": "60至64周岁老年人凭身份证享半价优惠",
            "en": "Visitors aged 60 to 64 pay half price with a valid ID",
        },
    },
    {
        "rule": "age_at_least",
        "value": 65,
        "discount": "free",
        "note": {
            "zh-CN": "65周岁及以上老年人凭身份证免票",
            "en": "Visitors aged 65 and over enter free with a valid ID",
        },
    },
    {
        "rule": "age_under",
        "value": 6,
        "discount": "free",
        "note": {
            "zh-CN": "6周岁以下儿童在成人陪同下免票",
            "en": "Children under 6 enter free when accompanied by an adult",
        },
    },
    {
        "rule": "student",
        "value": None,
        "discount": "half",
        "note": {
            "zh-CN": "全日制在校学生凭学生证享半价优惠",
            "en": "Full-time students pay half price with a student card",
        },
    },
    {
        "rule": "active_military",
        "value": None,
        "discount": "free",
        "note": {
            "zh-CN": "现役军人凭有效证件免票",
            "en": "Active-duty military personnel enter free with valid ID",
        },
    },
    {
        "rule": "disabled",
        "value": None,
        "discount": "free",
        "note": {
            "zh-CN": "残疾人凭残疾人证免票",
            "en": "Visitors with a disability certificate enter free",
        },
    },
]

CRUISE_FREE_RULES = [
    {
        "rule": "height_under_cm",
        "value": 120,
        "discount": "free",
        "note": {
            "zh-CN": "身高1.2米以下儿童在成人陪同下免票（不占座）",
            "en": "Children under 1.2 m ride free with an adult (no seat of their own)",
        },
    },
    {
        "rule": "age_at_least",
        "value": 70,
        "discount": "half",
        "note": {
            "zh-CN": "70周岁及以上老年人凭身份证享半价优惠",
            "en": "Visitors aged 70 and over pay half price with a valid ID",
        },
    },
    {
        "rule": "active_military",
        "value": None,
        "discount": "half",
        "note": {
            "zh-CN": "现役军人凭有效证件享半价优惠",
            "en": "Active-duty military personnel pay half price with valid ID",
        },
    },
    {
        "rule": "disabled",
        "value": None,
        "discount": "half",
        "note": {
            "zh-CN": "残疾人凭残疾人证享半价优惠",
            "en": "Visitors with a disability certificate pay half price",
        },
    },
]

FREE_ADMISSION = {"zh-CN": "免费入场", "en": "Free admission"}

DEMO_VENUES: list[dict] = [
    {
        "code": "wenzhou-museum",
        "kind": "museum",
        "a_level": None,
        "name": {"zh-CN": "温州博物馆", "en": "Wenzhou Museum"},
        "description": {
            "zh-CN": (
                "温州博物馆始建于1958年，新馆于2003年在市府路建成开放，是国家一级博物馆。"
                "基本陈列以“温州人”为主线讲述这座城市数千年的发展史，"
                "另设瓯窑青瓷、温州漆器、黄杨木雕与瓯绣等专题展厅。"
                "馆内藏品逾十万件，免费开放，需提前预约入馆时段。"
            ),
            "en": (
                "Founded in 1958, Wenzhou Museum moved into its new building on Shifu Road "
                "in 2003 and is a national first-grade museum. Its core exhibition traces "
                "thousands of years of local history through the story of the Wenzhou people, "
                "with themed galleries on Ou kiln celadon, Wenzhou lacquerware, boxwood carving "
                "and Ou embroidery. Admission is free, but visitors must book an entry slot."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市鹿城区市府路491号",
            "en": "491 Shifu Road, Lucheng District, Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "鹿城区", "en": "Lucheng District"},
        "transport": {
            "zh-CN": (
                "乘公交6路、17路、71路至“温州博物馆”站下车；"
                "从五马街打车约15分钟，从温州南站打车约25分钟。"
            ),
            "en": (
                "Take bus 6, 17 or 71 to the Wenzhou Museum stop. It is about 15 minutes by "
                "taxi from Wuma Street and about 25 minutes from Wenzhou South Railway Station."
            ),
        },
        "latitude": 27.9986,
        "longitude": 120.6912,
        "phone": "0577-88966900",
        "website": "https://www.wzmuseum.cn",
        "photos": ["/static/photos/wenzhou-museum-1.jpg", "/static/photos/wenzhou-museum-2.jpg"],
        "tags": {
            "zh-CN": ["博物馆", "历史", "瓷器", "亲子", "免费"],
            "en": ["museum", "history", "porcelain", "family", "free"],
        },
        "prices": [{"name": FREE_ADMISSION, "price_cents": 0}],
        "free_rules": [],
        "reservable": True,
        "opening_hours": {day: ["09:00", "17:00", "16:30"] for day in range(1, 7)},
        "closing_days": [
            {
                "date": "2026-12-15",
                "reason": {
                    "zh-CN": "设备检修，闭馆一天",
                    "en": "Closed for one day for equipment maintenance",
                },
            }
        ],
        "slot_templates": [
            {"weekdays": [1, 2, 3, 4, 5, 6], "starts_at": s, "ends_at": e, "capacity": 300}
            for s, e in [
                ("09:00", "10:30"),
                ("10:30", "12:00"),
                ("12:00", "13:30"),
                ("13:30", "15:00"),
                ("15:00", "16:30"),
            ]
        ],
    },
    {
        "code": "jiangxin-islet",
        "kind": "scenic_area",
        "a_level": 4,
        "name": {"zh-CN": "江心屿", "en": "Jiangxin Islet"},
        "description": {
            "zh-CN": (
                "江心屿位于瓯江之中，被誉为“中国诗之岛”，谢灵运"
                "、李白、孟浩然等历代诗人曾在此留下诗篇。"
                "岛上东西双塔分别始建于唐代和北宋，"
                "与江心寺、宋文信国公祠（文天祥祠）等古迹相映成趣。"
                "江心寺山门的“云朝朝朝朝朝朝朝散，潮长长长长长长长消”叠字联广为人知。"
                "入夜后双塔与沿岸灯光倒映江面，是欣赏瓯江夜景的好去处。"
            ),
            "en": (
                "Set in the middle of the Ou River, Jiangxin Islet is known as China's Island of "
                "Poetry, celebrated by poets from Xie Lingyun to Li Bai and Meng Haoran. Its "
                "East and West Pagodas date back to the Tang and Northern Song dynasties and stand "
                "alongside Jiangxin Temple, famous for its tongue-twisting couplet of repeated "
                "characters, and a memorial hall to the Song loyalist Wen Tianxiang. After dark "
                "the illuminated pagodas are reflected in the river, making it a favourite "
                "night-time stop."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市鹿城区江心屿（望江东路江心码头乘渡轮）",
            "en": "Jiangxin Islet, Lucheng District, Wenzhou (ferry from Jiangxin Pier, "
            "Wangjiang East Road)",
        },
        "county": {"zh-CN": "鹿城区", "en": "Lucheng District"},
        "transport": {
            "zh-CN": (
                "乘公交1路、7路、33路至“江心码头”站，在江心码头换乘渡轮约5分钟上岛；"
                "从五马街步行至码头约15分钟。"
            ),
            "en": (
                "Take bus 1, 7 or 33 to the Jiangxin Pier stop, then a five-minute ferry across to "
                "the islet. The pier is about a 15-minute walk from Wuma Street."
            ),
        },
        "latitude": 28.0335,
        "longitude": 120.6468,
        "phone": "0577-88230012",
        "website": "",
        "photos": ["/static/photos/jiangxin-islet-1.jpg", "/static/photos/jiangxin-islet-2.jpg"],
        "tags": {
            "zh-CN": ["山水", "古塔", "诗词", "夜游", "亲子"],
            "en": ["landscape", "pagodas", "poetry", "night tour", "family"],
        },
        "prices": [
            {
                "name": {
                    "zh-CN": "成人票（含往返渡轮）",
                    "en": "Adult ticket (incl. return ferry)",
                },
                "price_cents": 3000,
            },
            {
                "name": {"zh-CN": "儿童票（6至18周岁）", "en": "Child ticket (ages 6-18)"},
                "price_cents": 1500,
            },
        ],
        "free_rules": SCENIC_FREE_RULES,
        "reservable": True,
        "opening_hours": {day: ["06:30", "22:00", "21:00"] for day in range(7)},
        "closing_days": [],
        "slot_templates": [
            {"weekdays": [0, 1, 2, 3, 4, 5, 6], "starts_at": s, "ends_at": e, "capacity": c}
            for s, e, c in [
                ("06:30", "09:00", 1000),
                ("09:00", "11:00", 2000),
                ("11:00", "13:00", 2000),
                ("13:00", "15:00", 2000),
                ("15:00", "17:00", 2000),
                ("17:00", "19:00", 1500),
                ("19:00", "21:00", 1500),
            ]
        ],
    },
    {
        "code": "yandang-mountain",
        "kind": "scenic_area",
        "a_level": 5,
        "name": {"zh-CN": "雁荡山", "en": "Yandang Mountain"},
        "description": {
            "zh-CN": (
                "雁荡山位于乐清市，是国家5A级旅游景区和世界地质公园，素有“海上名山、寰中绝胜”之誉。"
                "山体由一亿多年前的白垩纪火山喷发形成，奇峰、巨嶂、飞瀑遍布，"
                "其中灵峰、灵岩、大龙湫被称为“雁荡三绝”。"
                "入夜后灵峰群峰剪影随视角变幻成“夫妻峰”“犀牛望月”等形象，灵峰夜景不可错过。"
            ),
            "en": (
                "Yandang Mountain in Yueqing is a national 5A scenic area and a UNESCO Global "
                "Geopark, long praised as the finest mountain by the sea. Its cliffs and pinnacles "
                "were shaped by volcanic eruptions more than 100 million years ago in the "
                "Cretaceous, and its three highlights are Lingfeng Peak, Lingyan Rock and the "
                "Dalongqiu Waterfall. After dusk, the silhouettes of the Lingfeng peaks turn into "
                "shapes such as the Husband-and-Wife Peaks, a night walk not to be missed."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市乐清市雁荡镇",
            "en": "Yandang Town, Yueqing, Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "乐清市", "en": "Yueqing City"},
        "transport": {
            "zh-CN": (
                "从温州南站乘高铁至雁荡山站约30分钟，再换乘景区公交约20分钟到灵峰；"
                "自驾从市区经沈海高速雁荡山出口约1.5小时。"
            ),
            "en": (
                "High-speed trains run from Wenzhou South to Yandangshan Station in about 30 "
                "minutes; a scenic-area bus then reaches Lingfeng in about 20 minutes. By car it "
                "is roughly 1.5 hours from downtown via the G15 Shenyang-Haikou Expressway "
                "(Yandangshan exit)."
            ),
        },
        "latitude": 28.3789,
        "longitude": 121.0766,
        "phone": "0577-62245588",
        "website": "https://www.yandangshan.com.cn",
        "photos": [
            "/static/photos/yandang-mountain-1.jpg",
            "/static/photos/yandang-mountain-2.jpg",
        ],
        "tags": {
            "zh-CN": ["山水", "世界地质公园", "瀑布", "徒步", "夜游"],
            "en": ["landscape", "UNESCO Global Geopark", "waterfall", "hiking", "night tour"],
        },
        "prices": [
            {
                "name": {
                    "zh-CN": "三景联票（灵峰、灵岩、大龙湫）",
                    "en": "Combined ticket (Lingfeng, Lingyan, Dalongqiu)",
                },
                "price_cents": 15000,
            },
            {
                "name": {"zh-CN": "灵峰日景单票", "en": "Lingfeng daytime ticket"},
                "price_cents": 5000,
            },
            {
                "name": {"zh-CN": "灵峰夜景票", "en": "Lingfeng night-view ticket"},
                "price_cents": 5000,
            },
        ],
        "free_rules": SCENIC_FREE_RULES,
        "reservable": True,
        "opening_hours": {day: ["07:00", "21:00", "20:00"] for day in range(7)},
        "closing_days": [],
        "slot_templates": [
            {"weekdays": [0, 1, 2, 3, 4, 5, 6], "starts_at": s, "ends_at": e, "capacity": c}
            for s, e, c in [
                ("07:00", "09:00", 2000),
                ("09:00", "11:00", 3000),
                ("11:00", "13:00", 3000),
                ("13:00", "15:00", 2500),
                ("15:00", "17:00", 1500),
                ("18:30", "20:00", 800),  # 灵峰夜景 / Lingfeng night view
            ]
        ],
    },
    {
        "code": "nanxi-river",
        "kind": "scenic_area",
        "a_level": 4,
        "name": {"zh-CN": "楠溪江", "en": "Nanxi River"},
        "description": {
            "zh-CN": (
                "楠溪江是国家级风景名胜区，以“水秀、岩奇、瀑多、村古、滩林美”著称，江水清澈见底。"
                "乘竹筏顺流而下可观赏狮子岩等沿岸奇景，两岸保存着众多宋元以来的耕读古村落。"
                "苍坡村按“文房四宝”格局布局，芙蓉村以“七星八斗”规划闻名，"
                "岩头村的丽水街廊桥古朴雅致。"
            ),
            "en": (
                "The Nanxi River is a national scenic area famous for its crystal-clear water, odd "
                "rock formations, waterfalls and ancient villages. Bamboo-raft trips drift past "
                "sights such as Lion Rock, and the banks are dotted with farming-and-scholarship "
                "villages dating back to the Song and Yuan dynasties. Cangpo Village is laid out "
                "like the Four Treasures of the Study, Furong Village follows a Seven Stars and "
                "Eight Dippers plan, and Yantou's Lishui Street has a charming covered corridor."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市永嘉县岩头镇楠溪江景区",
            "en": "Nanxi River Scenic Area, Yantou Town, Yongjia County, Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "永嘉县", "en": "Yongjia County"},
        "transport": {
            "zh-CN": (
                "自驾从市区经诸永高速至岩头约1小时；"
                "或乘火车至温州北站（瓯北），换乘景区专线公交约50分钟到岩头。"
            ),
            "en": (
                "By car it is about one hour from downtown to Yantou via the Zhuji-Yongjia "
                "Expressway. Alternatively, take a train to Wenzhou North Station in Oubei and "
                "transfer to the scenic-area bus, about 50 minutes to Yantou."
            ),
        },
        "latitude": 28.3035,
        "longitude": 120.7188,
        "phone": "0577-67211888",
        "website": "",
        "photos": ["/static/photos/nanxi-river-1.jpg", "/static/photos/nanxi-river-2.jpg"],
        "tags": {
            "zh-CN": ["山水", "漂流", "古村落", "亲子", "摄影"],
            "en": ["landscape", "rafting", "ancient villages", "family", "photography"],
        },
        "prices": [
            {
                "name": {"zh-CN": "狮子岩竹筏漂流", "en": "Lion Rock bamboo rafting"},
                "price_cents": 10000,
            },
            {
                "name": {
                    "zh-CN": "古村落联票（苍坡、芙蓉）",
                    "en": "Ancient villages combined ticket (Cangpo, Furong)",
                },
                "price_cents": 5000,
            },
        ],
        "free_rules": SCENIC_FREE_RULES,
        "reservable": True,
        "opening_hours": {day: ["08:00", "17:00", "16:00"] for day in range(7)},
        "closing_days": [],
        "slot_templates": [
            {"weekdays": [0, 1, 2, 3, 4, 5, 6], "starts_at": s, "ends_at": e, "capacity": 800}
            for s, e in [
                ("08:00", "10:00"),
                ("10:00", "12:00"),
                ("12:00", "14:00"),
                ("14:00", "16:00"),
            ]
        ],
    },
    {
        "code": "wuma-street",
        "kind": "street",
        "a_level": None,
        "name": {"zh-CN": "五马街", "en": "Wuma Street"},
        "description": {
            "zh-CN": (
                "五马街是温州最著名的商业步行街，"
                "相传东晋书法家王羲之任永嘉郡守时常乘五马之车出行，街名由此而来。"
                "街道两侧保留着大量民国时期的欧式建筑，五味和、金三益等百年老字号至今仍在营业。"
                "街口的五马雕塑是城市地标，入夜后灯火通明，与周边的禅街、公园路连成一片热闹的商圈。"
            ),
            "en": (
                "Wuma Street is Wenzhou's best-known pedestrian shopping street. Its name, Five "
                "Horses, recalls the calligrapher Wang Xizhi, who is said to have ridden a "
                "five-horse carriage here as prefect of Yongjia in the Eastern Jin dynasty. "
                "Republican-era European-style facades line the street, and century-old shops "
                "such as Wuweihe are still trading. The five-horse sculpture is a city landmark, "
                "and at night the street and neighbouring Chan Street form a lively, brightly lit "
                "shopping district."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市鹿城区五马街",
            "en": "Wuma Street, Lucheng District, Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "鹿城区", "en": "Lucheng District"},
        "transport": {
            "zh-CN": "乘公交5路、33路、60路至“五马街口”站下车；从温州站打车约15分钟。",
            "en": (
                "Take bus 5, 33 or 60 to the Wuma Street Entrance stop. It is about 15 minutes "
                "by taxi from Wenzhou Railway Station."
            ),
        },
        "latitude": 28.0172,
        "longitude": 120.6553,
        "phone": "0577-88227701",
        "website": "",
        "photos": ["/static/photos/wuma-street-1.jpg"],
        "tags": {
            "zh-CN": ["古街", "购物", "美食", "老字号", "夜游"],
            "en": ["old street", "shopping", "food", "time-honoured brands", "night tour"],
        },
        "prices": [{"name": FREE_ADMISSION, "price_cents": 0}],
        "free_rules": [],
        "reservable": False,
        "opening_hours": {day: ["00:00", "23:59", None] for day in range(7)},
        "closing_days": [],
        "slot_templates": [],
    },
    {
        "code": "nantang-street",
        "kind": "street",
        "a_level": None,
        "name": {"zh-CN": "南塘街", "en": "Nantang Street"},
        "description": {
            "zh-CN": (
                "南塘街沿温瑞塘河而建，其前身南塘始筑于南宋，是温州至瑞安的古老水陆通道。"
                "如今这里是一条白墙黛瓦的文化风貌街区，汇集温州特色小吃、茶馆与非遗手工艺小店。"
                "夜晚沿河灯笼亮起，可在此登船体验塘河夜游，感受“水乡温州”的韵味。"
            ),
            "en": (
                "Nantang Street runs along the Wenrui Tang River on the line of an embankment "
                "first built in the Southern Song dynasty as the old land-and-water route from "
                "Wenzhou to Rui'an. Today it is a whitewashed, tile-roofed heritage-style street "
                "full of local snacks, teahouses and intangible-heritage craft shops. In the "
                "evening lanterns light up the canal and visitors can board a Tang River night "
                "cruise nearby."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市鹿城区南塘街（划龙桥路至南塘桥段）",
            "en": "Nantang Street (Hualongqiao Road to Nantang Bridge), Lucheng District, "
            "Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "鹿城区", "en": "Lucheng District"},
        "transport": {
            "zh-CN": "乘公交12路、36路、80路至“南塘风貌街”站下车；从五马街打车约10分钟。",
            "en": (
                "Take bus 12, 36 or 80 to the Nantang Heritage Street stop. It is about 10 "
                "minutes by taxi from Wuma Street."
            ),
        },
        "latitude": 27.9962,
        "longitude": 120.6648,
        "phone": "0577-88553210",
        "website": "",
        "photos": ["/static/photos/nantang-street-1.jpg", "/static/photos/nantang-street-2.jpg"],
        "tags": {
            "zh-CN": ["古街", "美食", "夜游", "非遗", "水乡"],
            "en": ["old street", "food", "night tour", "intangible heritage", "canal town"],
        },
        "prices": [{"name": FREE_ADMISSION, "price_cents": 0}],
        "free_rules": [],
        "reservable": False,
        "opening_hours": {day: ["00:00", "23:59", None] for day in range(7)},
        "closing_days": [],
        "slot_templates": [],
    },
    {
        "code": "wenzhou-library",
        "kind": "library",
        "a_level": None,
        "name": {"zh-CN": "温州市图书馆", "en": "Wenzhou Library"},
        "description": {
            "zh-CN": (
                "温州市图书馆创建于1919年，前身为籀园图书馆，以纪念清末朴学大师孙诒让（号籀庼）。"
                "新馆位于市府路文化中心，设有地方文献、少儿阅览、数字阅读等区域，"
                "藏有大量温州乡邦文献与古籍。"
                "图书馆首创的24小时自助“城市书房”已遍布全市，读者凭身份证即可免费借阅。"
            ),
            "en": (
                "Wenzhou Library was founded in 1919 as the Zhouyuan Library, named in memory of "
                "the late-Qing scholar Sun Yirang. Its main building in the Shifu Road cultural "
                "centre houses local-history collections, rare books, a children's reading room "
                "and digital reading areas. The library pioneered the 24-hour self-service City "
                "Study Rooms now found across Wenzhou, and anyone can borrow books free of charge "
                "with an ID card."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市鹿城区市府路（温州博物馆东侧）",
            "en": "Shifu Road (east of Wenzhou Museum), Lucheng District, Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "鹿城区", "en": "Lucheng District"},
        "transport": {
            "zh-CN": "乘公交6路、17路、71路至“温州博物馆”站，步行约5分钟；从五马街打车约15分钟。",
            "en": (
                "Take bus 6, 17 or 71 to the Wenzhou Museum stop and walk about five minutes. "
                "It is about 15 minutes by taxi from Wuma Street."
            ),
        },
        "latitude": 27.9981,
        "longitude": 120.6941,
        "phone": "0577-88965300",
        "website": "https://www.wzlib.cn",
        "photos": ["/static/photos/wenzhou-library-1.jpg"],
        "tags": {
            "zh-CN": ["图书馆", "阅读", "亲子", "免费", "地方文献"],
            "en": ["library", "reading", "family", "free", "local history"],
        },
        "prices": [{"name": FREE_ADMISSION, "price_cents": 0}],
        "free_rules": [],
        "reservable": False,
        "opening_hours": {day: ["09:00", "21:00", None] for day in range(7)},
        "closing_days": [],
        "slot_templates": [],
    },
    {
        "code": "wenzhou-grand-theatre",
        "kind": "theatre",
        "a_level": None,
        "name": {"zh-CN": "温州大剧院", "en": "Wenzhou Grand Theatre"},
        "description": {
            "zh-CN": (
                "温州大剧院位于市府路世纪广场旁，于2008年前后建成启用，"
                "是温州规模最大的专业演出场馆。"
                "剧院设有大剧场、音乐厅和小剧场，"
                "常年上演交响乐、话剧、舞剧以及越剧、瓯剧等地方戏曲。"
                "演出需另行购票，售票处每日开放。"
            ),
            "en": (
                "Wenzhou Grand Theatre stands beside Century Square on Shifu Road and opened "
                "around 2008 as the city's largest professional performance venue. It has a main "
                "theatre, a concert hall and a studio theatre, hosting symphony concerts, drama, "
                "dance and local opera such as Yue opera and Ou opera. Tickets are sold per show "
                "and the box office is open daily."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市鹿城区市府路（世纪广场旁）",
            "en": "Shifu Road (by Century Square), Lucheng District, Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "鹿城区", "en": "Lucheng District"},
        "transport": {
            "zh-CN": "乘公交6路、17路、71路至“世纪广场”站下车；从五马街打车约15分钟。",
            "en": (
                "Take bus 6, 17 or 71 to the Century Square stop. It is about 15 minutes by taxi "
                "from Wuma Street."
            ),
        },
        "latitude": 27.9968,
        "longitude": 120.6968,
        "phone": "0577-88966111",
        "website": "",
        "photos": ["/static/photos/wenzhou-grand-theatre-1.jpg"],
        "tags": {
            "zh-CN": ["演出", "音乐会", "戏曲", "夜生活"],
            "en": ["performances", "concerts", "Chinese opera", "nightlife"],
        },
        "prices": [
            {
                "name": {
                    "zh-CN": "演出票（起价，以具体场次为准）",
                    "en": "Performance tickets (from; varies by show)",
                },
                "price_cents": 8000,
            }
        ],
        "free_rules": [],
        "reservable": False,
        "opening_hours": {day: ["09:00", "22:00", "19:30"] for day in range(7)},
        "closing_days": [],
        "slot_templates": [],
    },
    {
        "code": "liu-bowen-hometown",
        "kind": "heritage_site",
        "a_level": 4,
        "name": {"zh-CN": "刘伯温故里", "en": "Liu Bowen's Hometown"},
        "description": {
            "zh-CN": (
                "刘伯温故里位于文成县南田镇，"
                "是明朝开国元勋、军事家刘基（字伯温，1311—1375年）的出生地。"
                "景区核心为明代奉旨敕建的刘基庙（诚意伯庙），以及刘基墓、刘氏祖居和华盖山等遗迹。"
                "南田地处海拔六百多米的高山台地，夏季凉爽，“太公祭”已列入国家级非物质文化遗产。"
            ),
            "en": (
                "Liu Bowen's Hometown in Nantian, Wencheng County, is the birthplace of Liu Ji "
                "(courtesy name Bowen, 1311-1375), the strategist who helped found the Ming "
                "dynasty. Its centrepiece is the Liu Ji Temple, built by imperial order in the "
                "Ming dynasty, along with Liu Ji's tomb, the family's ancestral residence and "
                "Huagai Mountain. Nantian sits on a plateau more than 600 m above sea level, cool "
                "in summer, and its Taigong ancestral ceremony is national intangible heritage."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市文成县南田镇",
            "en": "Nantian Town, Wencheng County, Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "文成县", "en": "Wencheng County"},
        "transport": {
            "zh-CN": (
                "从温州汽车南站乘班车至文成县城约1.5小时，再换乘至南田的班车约40分钟；"
                "自驾经龙丽温高速约1小时45分钟。"
            ),
            "en": (
                "Take a coach from Wenzhou South Bus Station to Wencheng county town (about 1.5 "
                "hours), then a local bus to Nantian (about 40 minutes). By car it is about 1 "
                "hour 45 minutes via the Longquan-Lishui-Wenzhou Expressway."
            ),
        },
        "latitude": 27.8995,
        "longitude": 120.0392,
        "phone": "0577-67721234",
        "website": "",
        "photos": ["/static/photos/liu-bowen-hometown-1.jpg"],
        "tags": {
            "zh-CN": ["名人故里", "历史", "古建筑", "非遗", "避暑"],
            "en": [
                "famous person's hometown",
                "history",
                "historic architecture",
                "intangible heritage",
                "summer retreat",
            ],
        },
        "prices": [
            {"name": {"zh-CN": "成人票", "en": "Adult ticket"}, "price_cents": 5000},
        ],
        "free_rules": SCENIC_FREE_RULES,
        "reservable": True,
        "opening_hours": {day: ["08:00", "17:00", "16:30"] for day in range(7)},
        "closing_days": [],
        "slot_templates": [
            {"weekdays": [0, 1, 2, 3, 4, 5, 6], "starts_at": s, "ends_at": e, "capacity": 500}
            for s, e in [
                ("08:00", "10:00"),
                ("10:00", "12:00"),
                ("12:00", "14:00"),
                ("14:00", "16:30"),
            ]
        ],
    },
    {
        "code": "baizhangji",
        "kind": "scenic_area",
        "a_level": 4,
        "name": {"zh-CN": "百丈漈", "en": "Baizhangji Waterfall"},
        "description": {
            "zh-CN": (
                "百丈漈位于文成县百丈漈镇，由三级瀑布组成，"
                "其中头漈落差约207米，号称中国单体落差最高的瀑布之一。"
                "瀑布水雾弥漫、声如雷鸣，沿栈道可依次游览头漈、二漈、三漈。"
                "景区毗邻飞云湖，森林茂密，是夏季避暑和负氧离子“洗肺”的好去处。"
            ),
            "en": (
                "Baizhangji in Wencheng County is a three-tier waterfall whose first drop falls "
                "about 207 m, billed as one of the highest single-drop waterfalls in China. "
                "Boardwalks lead past all three tiers through thundering spray. The area borders "
                "Feiyun Lake and is thickly forested, a popular cool retreat in summer."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市文成县百丈漈镇",
            "en": "Baizhangji Town, Wencheng County, Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "文成县", "en": "Wencheng County"},
        "transport": {
            "zh-CN": (
                "自驾从市区经龙丽温高速文成出口约1.5小时；"
                "或乘班车至文成县城（大峃），再换乘景区班车约30分钟。"
            ),
            "en": (
                "By car it is about 1.5 hours from downtown via the Longquan-Lishui-Wenzhou "
                "Expressway (Wencheng exit). By bus, go to Wencheng county town (Daxue) and "
                "change to the scenic-area bus, about 30 minutes."
            ),
        },
        "latitude": 27.8398,
        "longitude": 120.0462,
        "phone": "0577-67781188",
        "website": "",
        "photos": ["/static/photos/baizhangji-1.jpg", "/static/photos/baizhangji-2.jpg"],
        "tags": {
            "zh-CN": ["瀑布", "山水", "徒步", "避暑", "摄影"],
            "en": ["waterfall", "landscape", "hiking", "summer retreat", "photography"],
        },
        "prices": [
            {"name": {"zh-CN": "成人票", "en": "Adult ticket"}, "price_cents": 8000},
            {"name": {"zh-CN": "景区观光车", "en": "Scenic-area shuttle"}, "price_cents": 2000},
        ],
        "free_rules": SCENIC_FREE_RULES,
        "reservable": True,
        "opening_hours": {day: ["07:30", "17:30", "16:30"] for day in range(7)},
        "closing_days": [],
        "slot_templates": [
            {"weekdays": [0, 1, 2, 3, 4, 5, 6], "starts_at": s, "ends_at": e, "capacity": c}
            for s, e, c in [
                ("07:30", "09:30", 600),
                ("09:30", "11:30", 1000),
                ("11:30", "13:30", 1000),
                ("13:30", "15:30", 800),
                ("15:30", "16:30", 400),
            ]
        ],
    },
    {
        "code": "dongtou-islands",
        "kind": "scenic_area",
        "a_level": 4,
        "name": {"zh-CN": "洞头", "en": "Dongtou Islands"},
        "description": {
            "zh-CN": (
                "洞头素有“百岛洞头”之称，由160多个岛屿组成，通过灵霓大堤与温州大陆相连。"
                "主要景点有可俯瞰海天的望海楼、海蚀奇石林立的仙叠岩、"
                "半屏山海上“百里画廊”，以及东岙渔村等特色渔村。"
                "这里是品尝新鲜海鲜、观日出和体验渔家风情的好地方。"
            ),
            "en": (
                "Known as the Hundred Islands, Dongtou is an archipelago of more than 160 islands "
                "linked to the Wenzhou mainland by the Lingni Seawall. Highlights include Wanghai "
                "Tower with its sweeping sea views, the wave-carved rocks of Xiandie Cliff, the "
                "sea-cliff panorama of Banping Mountain and fishing villages such as Dong'ao. It "
                "is the place for fresh seafood, sunrises and island fishing-village life."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市洞头区北岙街道",
            "en": "Beiao Subdistrict, Dongtou District, Wenzhou, Zhejiang",
        },
        "county": {"zh-CN": "洞头区", "en": "Dongtou District"},
        "transport": {
            "zh-CN": (
                "自驾从市区经灵昆岛、灵霓大堤约1小时；"
                "或在温州汽车新城站乘洞头方向班车，约1.5小时到达北岙。"
            ),
            "en": (
                "By car it is about one hour from downtown via Lingkun Island and the Lingni "
                "Seawall. Coaches to Dongtou leave from Wenzhou Xincheng Bus Station and reach "
                "Beiao in about 1.5 hours."
            ),
        },
        "latitude": 27.8362,
        "longitude": 121.1566,
        "phone": "0577-63488800",
        "website": "",
        "photos": ["/static/photos/dongtou-islands-1.jpg", "/static/photos/dongtou-islands-2.jpg"],
        "tags": {
            "zh-CN": ["海岛", "海鲜", "渔村", "日出", "亲子"],
            "en": ["islands", "seafood", "fishing village", "sunrise", "family"],
        },
        "prices": [
            {
                "name": {
                    "zh-CN": "景点联票（望海楼、仙叠岩、半屏山）",
                    "en": "Combined ticket (Wanghai Tower, Xiandie Cliff, Banping Mountain)",
                },
                "price_cents": 12000,
            },
            {"name": {"zh-CN": "望海楼单票", "en": "Wanghai Tower ticket"}, "price_cents": 4000},
        ],
        "free_rules": SCENIC_FREE_RULES,
        "reservable": True,
        "opening_hours": {day: ["07:30", "17:30", "16:30"] for day in range(7)},
        "closing_days": [],
        "slot_templates": [
            {"weekdays": [0, 1, 2, 3, 4, 5, 6], "starts_at": s, "ends_at": e, "capacity": 1000}
            for s, e in [
                ("07:30", "10:00"),
                ("10:00", "12:00"),
                ("12:00", "14:00"),
                ("14:00", "16:30"),
            ]
        ],
    },
    {
        "code": "tanghe-night-cruise",
        "kind": "scenic_area",
        "a_level": None,
        "name": {"zh-CN": "塘河夜游", "en": "Tang River Night Cruise"},
        "description": {
            "zh-CN": (
                "塘河夜游从南塘街码头出发，乘画舫沿温瑞塘河缓缓而行，全程约60分钟。"
                "沿途可欣赏灯光秀、古桥与河岸民居，船上不时有瓯剧、温州鼓词等非遗表演。"
                "温瑞塘河被称为温州的“母亲河”，夜游是感受老温州水乡生活的热门项目。"
            ),
            "en": (
                "The Tang River Night Cruise leaves from the Nantang Street pier and glides along "
                "the Wenrui Tang River in a traditional painted boat for about an hour. Passengers "
                "see light shows, old stone bridges and riverside houses, often with on-board "
                "performances of Ou opera or Wenzhou drum-ballad storytelling. The Wenrui Tang "
                "River is known as Wenzhou's mother river, and the cruise is a popular way to "
                "experience the city's canal-town heritage."
            ),
        },
        "address": {
            "zh-CN": "浙江省温州市鹿城区南塘街塘河夜游码头",
            "en": "Tang River Night Cruise Pier, Nantang Street, Lucheng District, Wenzhou, "
            "Zhejiang",
        },
        "county": {"zh-CN": "鹿城区", "en": "Lucheng District"},
        "transport": {
            "zh-CN": "乘公交12路、36路、80路至“南塘风貌街”站，步行约5分钟至码头。",
            "en": (
                "Take bus 12, 36 or 80 to the Nantang Heritage Street stop and walk about five "
                "minutes to the pier."
            ),
        },
        "latitude": 27.9931,
        "longitude": 120.6662,
        "phone": "0577-88551818",
        "website": "",
        "photos": ["/static/photos/tanghe-night-cruise-1.jpg"],
        "tags": {
            "zh-CN": ["夜游", "游船", "水乡", "非遗", "灯光秀"],
            "en": ["night tour", "boat trip", "canal town", "intangible heritage", "light show"],
        },
        "prices": [
            {"name": {"zh-CN": "成人船票", "en": "Adult boat ticket"}, "price_cents": 8000},
            {
                "name": {"zh-CN": "儿童船票（1.2至1.5米）", "en": "Child boat ticket (1.2-1.5 m)"},
                "price_cents": 4000,
            },
        ],
        "free_rules": CRUISE_FREE_RULES,
        "reservable": False,
        "opening_hours": {day: ["18:30", "21:30", "20:30"] for day in range(7)},
        "closing_days": [],
        "slot_templates": [],
    },
]

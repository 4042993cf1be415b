"""Demo food map of Wenzhou: real dishes and a few dozen restaurants, for development databases.

The dishes are real Wenzhou specialities; their stories follow common local accounts and are
simplified. The restaurants are illustrative: most names are invented, a few echo well-known
old brands (长人馄饨, 矮人松糕, 县前汤圆) without claiming their real addresses, hours or prices.
Coordinates are plausible points on or near the streets named (WGS-84), not surveyed.
"""

from __future__ import annotations

DEMO_DISHES: list[dict] = [
    {
        "code": "wenzhou-fish-balls",
        "name": {"zh-CN": "温州鱼丸", "en": "Wenzhou fish balls"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "温州鱼丸并不是圆的：鮸鱼或马鲛鱼去骨切条，拌上番薯粉捶打成形，"
                "下沸水汆熟，盛入清汤，加米醋、胡椒和葱花。"
                "鲜、酸、滑，是老城街头最常见的早点之一。"
            ),
            "en": (
                "Wenzhou fish balls are not round at all: strips of croaker or Spanish mackerel "
                "are worked with sweet-potato starch, poached, and served in a clear broth with "
                "rice vinegar, white pepper and spring onion. Tangy and silky, they are one of "
                "the old town's everyday breakfasts."
            ),
        },
        "tags": {
            "zh-CN": ["小吃", "早餐", "海鲜", "汤"],
            "en": ["snack", "breakfast", "seafood", "soup"],
        },
        "aliases": {
            "zh-CN": ["鱼丸", "鱼圆", "温州鱼圆"],
            "en": ["fish ball", "fish balls", "fishball", "fish ball soup", "yuwan"],
        },
    },
    {
        "code": "dengzhan-cake",
        "name": {"zh-CN": "灯盏糕", "en": "Dengzhan cake"},
        "county": "ruian",
        "story": {
            "zh-CN": (
                "灯盏糕因形似旧时的油灯盏而得名，以米浆和黄豆浆调糊，"
                "裹入萝卜丝、肉末，放进铁勺里入油锅炸到金黄。"
                "瑞安的灯盏糕最负盛名，外脆里嫩，趁热最好吃。"
            ),
            "en": (
                "Named for its shape, like an old oil-lamp dish, a dengzhan cake is a batter of "
                "rice and soybean milk filled with shredded radish and minced pork, fried in an "
                "iron ladle until golden. Rui'an's are the most famous: crisp outside, soft "
                "inside, best eaten hot."
            ),
        },
        "tags": {"zh-CN": ["小吃", "油炸", "早餐"], "en": ["snack", "fried", "breakfast"]},
        "aliases": {
            "zh-CN": ["灯盏饼", "瑞安灯盏糕"],
            "en": ["lamp cake", "oil lamp cake", "fried radish cake", "dengzhan"],
        },
    },
    {
        "code": "xianqian-tangyuan",
        "name": {"zh-CN": "县前汤圆", "en": "Xianqian tangyuan"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "县前汤圆得名于老县衙前的县前头一带，旧时这里的汤圆担子最多。"
                "个头大、皮薄软糯，裹红豆沙或芝麻馅，盛在桂花甜汤里，"
                "是温州人早餐和夜宵都爱的一碗甜。"
            ),
            "en": (
                "Xianqian tangyuan take their name from Xianqiantou, the street in front of the "
                "old county yamen where tangyuan stalls once crowded. They are large, with thin "
                "chewy skins and red-bean or sesame fillings, served in a sweet osmanthus soup "
                "at breakfast or late at night."
            ),
        },
        "tags": {"zh-CN": ["甜品", "小吃", "夜宵"], "en": ["dessert", "snack", "late night"]},
        "aliases": {
            "zh-CN": ["汤圆", "温州汤圆", "县前头汤圆"],
            "en": ["tangyuan", "glutinous rice balls", "sweet dumplings", "rice balls"],
        },
    },
    {
        "code": "changren-wonton",
        "name": {"zh-CN": "长人馄饨", "en": "Changren wontons"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "相传上世纪三十年代，一位身材高大的摊主挑着馄饨担走街串巷，"
                "人称“长人”，他的馄饨便叫“长人馄饨”。"
                "皮薄如纸、肉馅鲜嫩，汤里放紫菜、虾皮和蛋丝，至今仍是老温州的味道。"
            ),
            "en": (
                "The story goes that in the 1930s a very tall man carried his wonton stall "
                "through the lanes, and people called him 'Changren', the tall one. His wontons "
                "have paper-thin skins and tender pork, in a broth with laver, dried shrimp and "
                "shredded egg: still the taste of old Wenzhou."
            ),
        },
        "tags": {"zh-CN": ["小吃", "老字号", "汤"], "en": ["snack", "time-honoured brand", "soup"]},
        "aliases": {
            "zh-CN": ["馄饨", "温州馄饨"],
            "en": ["wonton", "wontons", "wonton soup", "dumpling soup"],
        },
    },
    {
        "code": "sticky-rice",
        "name": {"zh-CN": "糯米饭", "en": "Wenzhou sticky rice"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "温州人的早餐离不开一碗糯米饭：蒸好的糯米上浇肉末卤汁，"
                "撒上刚炸的油条碎和葱花，再配一碗咸豆浆或甜豆浆。"
            ),
            "en": (
                "A Wenzhou morning often starts with sticky rice: steamed glutinous rice under a "
                "spoonful of minced-pork gravy, topped with crushed fresh youtiao and spring "
                "onion, with a bowl of soy milk, sweet or savoury, on the side."
            ),
        },
        "tags": {"zh-CN": ["早餐", "小吃"], "en": ["breakfast", "snack"]},
        "aliases": {
            "zh-CN": ["温州糯米饭", "油条糯米饭"],
            "en": ["sticky rice", "glutinous rice", "nuomifan"],
        },
    },
    {
        "code": "raw-marinated-crab",
        "name": {"zh-CN": "江蟹生", "en": "Jiangxie sheng (raw marinated crab)"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "江蟹生是温州人的“下饭神器”：新鲜梭子蟹生切成块，"
                "用盐、黄酒、姜末、酱油和米醋腌上几个小时，鲜甜带咸，入口即化。"
                "温州话里的“江蟹”就是梭子蟹。"
            ),
            "en": (
                "Fresh swimming crab, cut raw and marinated for a few hours in salt, rice wine, "
                "ginger, soy sauce and vinegar: sweet, briny and meltingly soft, the dish "
                "Wenzhou people say makes any bowl of rice disappear. 'Jiangxie' is the local "
                "word for the swimming crab."
            ),
        },
        "tags": {"zh-CN": ["海鲜", "冷菜", "瓯菜"], "en": ["seafood", "cold dish", "Ou cuisine"]},
        "aliases": {
            "zh-CN": ["蟹生", "生腌蟹", "梭子蟹", "醉蟹"],
            "en": ["raw crab", "marinated crab", "drunken crab", "swimming crab", "crab"],
        },
    },
    {
        "code": "ou-citrus",
        "name": {"zh-CN": "瓯柑", "en": "Ou citrus"},
        "county": "ouhai",
        "story": {
            "zh-CN": (
                "瓯柑是温州特产的柑橘，瓯海三垟湿地一带栽种已有上千年。"
                "果味先苦后甜，耐储存，民间有“端午瓯柑赛羚羊”的说法，"
                "端午节吃瓯柑据说能清热降火。"
            ),
            "en": (
                "The Ou citrus has been grown around the Sanyang wetland in Ouhai for over a "
                "thousand years. It tastes bitter first and sweet after, and keeps for months; "
                "an old saying holds that an Ou citrus eaten at the Dragon Boat Festival is as "
                "cooling as antelope horn."
            ),
        },
        "tags": {"zh-CN": ["水果", "特产", "伴手礼"], "en": ["fruit", "local produce", "souvenir"]},
        "aliases": {
            "zh-CN": ["柑橘", "三垟瓯柑"],
            "en": ["ou citrus", "oukan", "mandarin", "citrus", "orange"],
        },
    },
    {
        "code": "duck-tongue",
        "name": {"zh-CN": "鸭舌", "en": "Wenzhou duck tongues"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "温州酱鸭舌以酱油、糖和香料卤制后风干，咸甜适口、越嚼越香，"
                "是温州人出门必带的伴手礼，也是夜宵桌上的常客。"
            ),
            "en": (
                "Braised in soy sauce, sugar and spices, then air-dried, Wenzhou duck tongues "
                "are sweet, savoury and made for slow chewing: the souvenir every Wenzhou "
                "traveller packs, and a regular at late-night tables."
            ),
        },
        "tags": {"zh-CN": ["卤味", "伴手礼", "夜宵"], "en": ["braised", "souvenir", "late night"]},
        "aliases": {
            "zh-CN": ["酱鸭舌", "温州鸭舌"],
            "en": ["duck tongue", "duck tongues", "braised duck tongue"],
        },
    },
    {
        "code": "pork-offal-noodles",
        "name": {"zh-CN": "猪脏粉", "en": "Pork offal rice noodles"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "猪脏粉是温州人的硬核早餐：细米粉配上洗得干干净净的猪大肠，"
                "浇猪骨汤，撒胡椒粉、葱花，再淋一勺米醋。"
            ),
            "en": (
                "A hearty Wenzhou breakfast: fine rice noodles with carefully cleaned pork "
                "intestine in pork-bone broth, finished with white pepper, spring onion and a "
                "spoonful of rice vinegar."
            ),
        },
        "tags": {"zh-CN": ["早餐", "小吃", "粉面"], "en": ["breakfast", "snack", "noodles"]},
        "aliases": {
            "zh-CN": ["猪肠粉", "大肠粉"],
            "en": ["pork offal noodles", "pig intestine noodles", "rice noodles", "offal"],
        },
    },
    {
        "code": "song-cake",
        "name": {"zh-CN": "松糕", "en": "Song cake"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "温州松糕以米粉加糖蒸成，松软香甜，面上点缀红枣、桂圆或猪油丁。"
                "逢年过节家家蒸松糕，取“步步高升”之意；五马街的矮人松糕最有名。"
            ),
            "en": (
                "Steamed from rice flour and sugar, Wenzhou song cake is light and sweet, topped "
                "with red dates, longan or cubes of lard. Families steam it for the New Year, "
                "since cake (gao) sounds like 'higher'; the Airen shop on Wuma Street is the "
                "best known."
            ),
        },
        "tags": {
            "zh-CN": ["糕点", "节令", "老字号"],
            "en": ["pastry", "festive", "time-honoured brand"],
        },
        "aliases": {
            "zh-CN": ["矮人松糕", "温州松糕"],
            "en": ["song cake", "steamed rice cake", "rice cake", "pine cake"],
        },
    },
    {
        "code": "sansi-qiaoyu",
        "name": {"zh-CN": "三丝敲鱼", "en": "Sansi qiaoyu (pounded fish with three shreds)"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "瓯菜名品：黄鱼或鮸鱼肉蘸上淀粉，用木槌一下下敲成薄片，切条后"
                "与火腿丝、鸡丝、香菇丝同煮，汤清味鲜，鱼片爽滑。"
            ),
            "en": (
                "A classic of Ou cuisine: fillets of yellow croaker are dusted with starch and "
                "beaten thin with a wooden mallet, cut into ribbons and simmered with three "
                "shreds (ham, chicken and shiitake) in a clear, delicate broth."
            ),
        },
        "tags": {"zh-CN": ["瓯菜", "海鲜", "汤"], "en": ["Ou cuisine", "seafood", "soup"]},
        "aliases": {
            "zh-CN": ["敲鱼", "敲鱼面"],
            "en": ["pounded fish", "beaten fish", "qiaoyu", "fish noodles"],
        },
    },
    {
        "code": "soy-sauce-pork",
        "name": {"zh-CN": "温州酱油肉", "en": "Wenzhou soy-cured pork"},
        "county": "lucheng",
        "story": {
            "zh-CN": (
                "入冬后温州人家把五花肉浸在酱油里，再挂到屋檐下风干，"
                "蒸熟切片，咸香回甜，是年夜饭桌上少不了的一盘。"
            ),
            "en": (
                "When winter comes, Wenzhou families soak pork belly in soy sauce and hang it "
                "under the eaves to dry. Steamed and sliced, savoury with a sweet finish, it "
                "belongs on every New Year's Eve table."
            ),
        },
        "tags": {"zh-CN": ["腊味", "瓯菜", "节令"], "en": ["cured meat", "Ou cuisine", "festive"]},
        "aliases": {
            "zh-CN": ["酱油肉", "酱肉"],
            "en": ["soy sauce pork", "cured pork", "soy-cured pork belly"],
        },
    },
    {
        "code": "yongjia-wheat-pie",
        "name": {"zh-CN": "永嘉麦饼", "en": "Yongjia wheat pie"},
        "county": "yongjia",
        "story": {
            "zh-CN": (
                "永嘉麦饼是楠溪江畔的乡土面食：面皮裹上梅干菜和肥瘦相间的猪肉，"
                "擀成大圆饼，在平底锅里慢慢烙到两面焦黄。"
            ),
            "en": (
                "A country bake from the Nanxi River valley: dough wrapped round preserved "
                "mustard greens and pork, rolled into a wide round pie and slowly griddled "
                "until both sides are crisp and golden."
            ),
        },
        "tags": {"zh-CN": ["面食", "小吃", "乡土"], "en": ["pastry", "snack", "countryside"]},
        "aliases": {
            "zh-CN": ["麦饼", "楠溪麦饼"],
            "en": ["wheat pie", "yongjia pie", "meat pie"],
        },
    },
    {
        "code": "dongtou-fish-cake",
        "name": {"zh-CN": "洞头鱼饼", "en": "Dongtou fish cake"},
        "county": "dongtou",
        "story": {
            "zh-CN": (
                "洞头渔家把新鲜鮸鱼或马鲛鱼剁成鱼糜，加少许淀粉和盐，"
                "做成长条蒸熟后切片，可以直接蘸酱吃，也能煎、炒、煮汤。"
            ),
            "en": (
                "Dongtou's fishing families mince fresh croaker or mackerel with a little starch "
                "and salt, steam it in long loaves and slice it: eaten with a dip, pan-fried, "
                "stir-fried or dropped into soup."
            ),
        },
        "tags": {"zh-CN": ["海鲜", "海岛"], "en": ["seafood", "island"]},
        "aliases": {
            "zh-CN": ["鱼饼", "鱼糕"],
            "en": ["fish cake", "fish cakes", "fish loaf"],
        },
    },
    {
        "code": "baixiang-dried-tofu",
        "name": {"zh-CN": "白象香干", "en": "Baixiang dried tofu"},
        "county": "yueqing",
        "story": {
            "zh-CN": (
                "乐清白象镇的香干已有数百年制作历史，豆腐压干后用酱油、"
                "茴香等香料卤制，质地紧实、越嚼越香，是乐清人的家常小菜和伴手礼。"
            ),
            "en": (
                "Dried tofu from Baixiang in Yueqing has been made for centuries: pressed tofu "
                "simmered in soy sauce, fennel and spices until firm and fragrant, a household "
                "side dish and a favourite gift."
            ),
        },
        "tags": {
            "zh-CN": ["豆制品", "特产", "伴手礼"],
            "en": ["tofu", "local produce", "souvenir"],
        },
        "aliases": {
            "zh-CN": ["香干", "豆腐干", "乐清香干"],
            "en": ["dried tofu", "smoked tofu", "baixiang tofu"],
        },
    },
]

# Opening sessions shared by many places; "closes" at or before "opens" runs past midnight.
BREAKFAST = [["06:00", "13:30"]]
ALL_DAY = [["07:00", "20:30"]]
LUNCH_AND_DINNER = [["11:00", "14:00"], ["17:00", "21:00"]]
LATE_NIGHT = [["17:00", "02:00"]]


def _restaurant(
    code: str,
    name: tuple[str, str],
    county: str,
    position: tuple[float, float],
    address: tuple[str, str],
    *,
    price: int,
    dishes: list[str],
    sessions: list[list[str]],
    certified: bool = False,
    signature: tuple[str, ...] = (),
    closed_on: tuple[int, ...] = (),
    description: tuple[str, str] = ("", ""),
    phone: str = "",
) -> dict:
    return {
        "code": code,
        "name": {"zh-CN": name[0], "en": name[1]},
        "county": county,
        "latitude": position[0],
        "longitude": position[1],
        "address": {"zh-CN": address[0], "en": address[1]},
        "description": {"zh-CN": description[0], "en": description[1]} if description[0] else {},
        "phone": phone,
        "photos": [f"/static/photos/food/{code}.jpg"],
        "price_level": price,
        "certified": certified,
        "dishes": [{"code": dish, "signature": dish in signature} for dish in dishes],
        "hours": {weekday: sessions for weekday in range(7) if weekday not in closed_on},
    }


DEMO_RESTAURANTS: list[dict] = [
    # --- the old city of Lucheng: Wuma Street, Xianqiantou, Jiefang Street, Nantang Street ---
    _restaurant(
        "changren-wonton-wuma", ("长人馄饨（五马街店）", "Changren Wontons (Wuma Street)"),
        "lucheng", (28.0170, 120.6561), ("鹿城区五马街", "Wuma Street, Lucheng"),
        price=1, certified=True, dishes=["changren-wonton", "song-cake", "sticky-rice"],
        signature=("changren-wonton",), sessions=[["06:30", "20:30"]],
        description=("薄皮馄饨配紫菜虾皮汤，老温州的早点铺。",
                     "Thin-skinned wontons in laver and shrimp broth, an old Wenzhou breakfast."),
    ),
    _restaurant(
        "airen-song-cake-wuma", ("矮人松糕（五马街店）", "Airen Song Cake (Wuma Street)"),
        "lucheng", (28.0173, 120.6546), ("鹿城区五马街", "Wuma Street, Lucheng"),
        price=1, certified=True, dishes=["song-cake", "changren-wonton", "xianqian-tangyuan"],
        signature=("song-cake",), sessions=ALL_DAY,
    ),
    _restaurant(
        "xianqian-tangyuan-old-shop", ("县前汤圆老店", "Xianqian Tangyuan Old Shop"),
        "lucheng", (28.0150, 120.6588), ("鹿城区县前头", "Xianqiantou, Lucheng"),
        price=1, certified=True, dishes=["xianqian-tangyuan", "sticky-rice"],
        signature=("xianqian-tangyuan",), sessions=[["07:00", "22:00"]],
    ),
    _restaurant(
        "wuma-fish-ball-house", ("五马鱼丸店", "Wuma Fish Ball House"),
        "lucheng", (28.0168, 120.6571), ("鹿城区五马街东段", "East end of Wuma Street, Lucheng"),
        price=1, dishes=["wenzhou-fish-balls", "pork-offal-noodles", "dengzhan-cake"],
        signature=("wenzhou-fish-balls",), sessions=[["06:00", "14:00"], ["16:30", "20:30"]],
    ),
    _restaurant(
        "jiefang-offal-noodles", ("解放街猪脏粉", "Jiefang Street Pork Offal Noodles"),
        "lucheng", (28.0158, 120.6524), ("鹿城区解放街", "Jiefang Street, Lucheng"),
        price=1, dishes=["pork-offal-noodles", "wenzhou-fish-balls"],
        signature=("pork-offal-noodles",), sessions=BREAKFAST,
    ),
    _restaurant(
        "chanjie-sticky-rice", ("蝉街糯米饭", "Chan Street Sticky Rice"),
        "lucheng", (28.0136, 120.6532), ("鹿城区蝉街", "Chan Street, Lucheng"),
        price=1, dishes=["sticky-rice", "xianqian-tangyuan"], signature=("sticky-rice",),
        sessions=[["05:30", "11:00"]],
    ),
    _restaurant(
        "gongyuan-ou-cuisine", ("公园路瓯菜馆", "Gongyuan Road Ou Cuisine"),
        "lucheng", (28.0163, 120.6602), ("鹿城区公园路", "Gongyuan Road, Lucheng"),
        price=3, certified=True,
        dishes=["raw-marinated-crab", "sansi-qiaoyu", "soy-sauce-pork", "wenzhou-fish-balls"],
        signature=("raw-marinated-crab",), sessions=[["11:00", "14:00"], ["17:00", "21:30"]],
        description=("“百县千碗”瓯菜馆，招牌江蟹生与三丝敲鱼。",
                     "A 百县千碗 Ou-cuisine house known for raw crab and pounded fish."),
    ),
    _restaurant(
        "oujiang-banquet", ("瓯江宴（望江路）", "Oujiang Banquet (Wangjiang Road)"),
        "lucheng", (28.0238, 120.6590), ("鹿城区望江东路", "Wangjiang East Road, Lucheng"),
        price=4, certified=True,
        dishes=["raw-marinated-crab", "sansi-qiaoyu", "soy-sauce-pork", "dongtou-fish-cake"],
        signature=("sansi-qiaoyu",), sessions=[["11:00", "14:00"], ["17:00", "21:30"]],
    ),
    _restaurant(
        "shuomen-late-night", ("朔门夜宵", "Shuomen Late-Night Kitchen"),
        "lucheng", (28.0232, 120.6548), ("鹿城区朔门街", "Shuomen Street, Lucheng"),
        price=2, dishes=["raw-marinated-crab", "duck-tongue", "pork-offal-noodles"],
        signature=("raw-marinated-crab",), sessions=LATE_NIGHT,
    ),
    _restaurant(
        "xinhe-duck-tongues", ("信河街鸭舌铺", "Xinhe Street Duck Tongues"),
        "lucheng", (28.0182, 120.6482), ("鹿城区信河街", "Xinhe Street, Lucheng"),
        price=2, dishes=["duck-tongue"], signature=("duck-tongue",),
        sessions=[["09:00", "21:00"]],
    ),
    _restaurant(
        "bailifang-dengzhan", ("百里坊灯盏糕", "Bailifang Dengzhan Cakes"),
        "lucheng", (28.0206, 120.6476), ("鹿城区百里坊", "Bailifang, Lucheng"),
        price=1, dishes=["dengzhan-cake", "sticky-rice"], signature=("dengzhan-cake",),
        sessions=[["06:00", "19:00"]],
    ),
    _restaurant(
        "xianqiantou-wontons", ("县前头馄饨铺", "Xianqiantou Wonton Stall"),
        "lucheng", (28.0146, 120.6578), ("鹿城区县前头", "Xianqiantou, Lucheng"),
        price=1, dishes=["changren-wonton", "pork-offal-noodles"],
        signature=("changren-wonton",), sessions=[["06:00", "14:00"]], closed_on=(0,),
    ),
    _restaurant(
        "wuma-dim-sum", ("五马老点心", "Wuma Old-Style Dim Sum"),
        "lucheng", (28.0176, 120.6538), ("鹿城区五马街西段", "West end of Wuma Street, Lucheng"),
        price=1, dishes=["song-cake", "xianqian-tangyuan", "dengzhan-cake"],
        signature=("xianqian-tangyuan",), sessions=ALL_DAY,
    ),
    _restaurant(
        "jiefang-wenzhou-kitchen", ("解放街温州菜馆", "Jiefang Street Wenzhou Kitchen"),
        "lucheng", (28.0190, 120.6521), ("鹿城区解放街北段", "North Jiefang Street, Lucheng"),
        price=2, certified=True,
        dishes=["soy-sauce-pork", "raw-marinated-crab", "sansi-qiaoyu"],
        signature=("soy-sauce-pork",), sessions=[["10:30", "14:00"], ["16:30", "21:00"]],
    ),
    _restaurant(
        "renmin-road-duck", ("人民路鸭舌馆", "Renmin Road Duck Tongue House"),
        "lucheng", (28.0122, 120.6600), ("鹿城区人民中路", "Middle Renmin Road, Lucheng"),
        price=2, dishes=["duck-tongue", "soy-sauce-pork"], signature=("duck-tongue",),
        sessions=[["10:00", "22:00"]],
    ),
    _restaurant(
        "nantang-fish-balls", ("南塘鱼丸馆", "Nantang Fish Ball Kitchen"),
        "lucheng", (27.9975, 120.6643), ("鹿城区南塘街", "Nantang Street, Lucheng"),
        price=2, certified=True,
        dishes=["wenzhou-fish-balls", "changren-wonton", "dengzhan-cake"],
        signature=("wenzhou-fish-balls",), sessions=[["10:00", "22:00"]],
    ),
    _restaurant(
        "nantang-ou-flavours", ("南塘瓯味坊", "Nantang Ou Flavours"),
        "lucheng", (27.9950, 120.6652), ("鹿城区南塘街", "Nantang Street, Lucheng"),
        price=3, certified=True,
        dishes=["raw-marinated-crab", "soy-sauce-pork", "sansi-qiaoyu", "ou-citrus"],
        signature=("soy-sauce-pork",), sessions=[["11:00", "14:00"], ["17:00", "22:00"]],
    ),
    _restaurant(
        "nantang-night-bites", ("南塘夜食铺", "Nantang Night Bites"),
        "lucheng", (27.9940, 120.6656), ("鹿城区南塘街南段", "South Nantang Street, Lucheng"),
        price=2, dishes=["duck-tongue", "dengzhan-cake", "pork-offal-noodles"],
        signature=("pork-offal-noodles",), sessions=[["17:00", "01:00"]],
    ),
    _restaurant(
        "tanghe-teahouse", ("塘河茶点", "Tanghe Teahouse"),
        "lucheng", (27.9928, 120.6668), ("鹿城区南塘街塘河边", "By the Tang River, Nantang Street"),
        price=2, dishes=["song-cake", "ou-citrus", "xianqian-tangyuan"],
        signature=("song-cake",), sessions=[["09:00", "21:30"]],
    ),
    _restaurant(
        "jiangxin-islet-snacks", ("江心屿小吃铺", "Jiangxin Islet Snack Bar"),
        "lucheng", (28.0330, 120.6478), ("鹿城区江心屿", "Jiangxin Islet, Lucheng"),
        price=2, dishes=["wenzhou-fish-balls", "dengzhan-cake", "ou-citrus"],
        signature=("dengzhan-cake",), sessions=[["08:00", "17:30"]],
    ),
    # --- the districts and counties ---
    _restaurant(
        "ruian-dengzhan-shop", ("瑞安灯盏糕老店", "Rui'an Dengzhan Cake Shop"),
        "ruian", (27.7795, 120.6536), ("瑞安市解放路", "Jiefang Road, Rui'an"),
        price=1, certified=True, dishes=["dengzhan-cake", "sansi-qiaoyu"],
        signature=("dengzhan-cake",), sessions=[["06:00", "19:00"]],
    ),
    _restaurant(
        "ruian-qiaoyu-house", ("瑞安敲鱼馆", "Rui'an Qiaoyu House"),
        "ruian", (27.7770, 120.6568), ("瑞安市安阳街道", "Anyang, Rui'an"),
        price=2, certified=True, dishes=["sansi-qiaoyu", "raw-marinated-crab"],
        signature=("sansi-qiaoyu",), sessions=[["10:30", "14:00"], ["16:30", "20:30"]],
    ),
    _restaurant(
        "sanyang-citrus-farm", ("三垟瓯柑园农家菜", "Sanyang Ou Citrus Farm Kitchen"),
        "ouhai", (27.9840, 120.6990), ("瓯海区三垟湿地", "Sanyang Wetland, Ouhai"),
        price=2, certified=True, dishes=["ou-citrus", "soy-sauce-pork"],
        signature=("ou-citrus",), sessions=[["09:00", "17:00"]],
    ),
    _restaurant(
        "louqiao-offal-noodles", ("娄桥猪脏粉", "Louqiao Pork Offal Noodles"),
        "ouhai", (27.9667, 120.6378), ("瓯海区娄桥街道", "Louqiao, Ouhai"),
        price=1, dishes=["pork-offal-noodles", "wenzhou-fish-balls"],
        signature=("pork-offal-noodles",), sessions=[["06:00", "14:00"]],
    ),
    _restaurant(
        "longwan-seafood-stalls", ("龙湾海鲜排档", "Longwan Seafood Stalls"),
        "longwan", (27.9340, 120.8120), ("龙湾区永中街道", "Yongzhong, Longwan"),
        price=3, dishes=["raw-marinated-crab", "dongtou-fish-cake"],
        signature=("raw-marinated-crab",), sessions=[["11:00", "14:00"], ["17:00", "23:30"]],
    ),
    _restaurant(
        "dongtou-fish-cake-shop", ("洞头鱼饼铺", "Dongtou Fish Cake Shop"),
        "dongtou", (27.8370, 121.1560), ("洞头区北岙街道", "Bei'ao, Dongtou"),
        price=2, certified=True, dishes=["dongtou-fish-cake", "raw-marinated-crab"],
        signature=("dongtou-fish-cake",), sessions=[["08:00", "20:00"]],
    ),
    _restaurant(
        "baixiang-tofu-workshop", ("白象香干坊", "Baixiang Dried Tofu Workshop"),
        "yueqing", (28.0750, 120.9550), ("乐清市白象镇", "Baixiang, Yueqing"),
        price=1, certified=True, dishes=["baixiang-dried-tofu"],
        signature=("baixiang-dried-tofu",), sessions=[["08:00", "18:00"]],
    ),
    _restaurant(
        "yandang-farmhouse", ("雁荡山农家乐", "Yandang Mountain Farmhouse"),
        "yueqing", (28.3780, 121.0720), ("乐清市雁荡镇灵峰景区旁", "By Lingfeng, Yandang, Yueqing"),
        price=2, dishes=["baixiang-dried-tofu", "soy-sauce-pork"],
        sessions=[["10:30", "20:30"]],
    ),
    _restaurant(
        "yongjia-wheat-pie-shop", ("永嘉麦饼店", "Yongjia Wheat Pie Shop"),
        "yongjia", (28.1530, 120.6905), ("永嘉县上塘镇", "Shangtang, Yongjia"),
        price=1, certified=True, dishes=["yongjia-wheat-pie"],
        signature=("yongjia-wheat-pie",), sessions=[["06:30", "18:30"]],
    ),
    _restaurant(
        "nanxi-river-inn", ("楠溪江农家饭店", "Nanxi River Farmhouse Inn"),
        "yongjia", (28.3040, 120.7200), ("永嘉县岩头镇", "Yantou, Yongjia"),
        price=2, dishes=["yongjia-wheat-pie", "soy-sauce-pork"],
        sessions=[["10:30", "20:00"]],
    ),
    _restaurant(
        "kunyang-snacks", ("昆阳小吃", "Kunyang Snacks"),
        "pingyang", (27.6625, 120.5650), ("平阳县昆阳镇", "Kunyang, Pingyang"),
        price=1, dishes=["pork-offal-noodles", "dengzhan-cake"], sessions=[["06:00", "19:00"]],
    ),
    _restaurant(
        "cangnan-fishing-port", ("苍南渔港饭店", "Cangnan Fishing Port Restaurant"),
        "cangnan", (27.5185, 120.4265), ("苍南县灵溪镇", "Lingxi, Cangnan"),
        price=3, dishes=["raw-marinated-crab", "dongtou-fish-cake"],
        signature=("raw-marinated-crab",), sessions=[["10:30", "21:00"]],
    ),
    _restaurant(
        "longgang-small-seafood", ("龙港小海鲜", "Longgang Small Seafood"),
        "longgang", (27.5780, 120.5530), ("龙港市世纪大道", "Shiji Avenue, Longgang"),
        price=2, dishes=["raw-marinated-crab", "pork-offal-noodles"],
        sessions=[["10:30", "21:30"]],
    ),
    _restaurant(
        "wencheng-country-kitchen", ("刘基故里土菜馆", "Liu Ji's Hometown Country Kitchen"),
        "wencheng", (27.8990, 120.0400), ("文成县南田镇", "Nantian, Wencheng"),
        price=2, dishes=["soy-sauce-pork", "song-cake"], sessions=[["10:30", "19:30"]],
    ),
    _restaurant(
        "taishun-bridge-kitchen", ("泰顺廊桥农家菜", "Taishun Covered Bridge Kitchen"),
        "taishun", (27.5575, 119.7185), ("泰顺县罗阳镇", "Luoyang, Taishun"),
        price=2, dishes=["soy-sauce-pork", "song-cake"], sessions=[["10:30", "19:30"]],
    ),
]  # fmt: skip
